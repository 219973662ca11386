"""Frozen dataclasses built without a call per field: the records a ballot makes.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__`` (its
own ``__setattr__`` refuses), a call per field; a unit makes several such records per ballot
(the cast vote record, the check-in result, the operator's message...) and a national
simulation makes them by the million, ~10 % of its time (issue 23 §3). ``quick_init`` gives
the class an ``__init__`` with the same signature that writes the fields into the instance's
``__dict__`` directly. Everything else stays the dataclass's: fields, defaults and default
factories, equality, hashing, ``repr``, ``dataclasses.replace``, pickling, and the refusal to
assign a field afterwards. ``tests/test_quick_init.py`` checks each class against a plain
frozen twin.
"""
from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Replace frozen dataclass ``cls``'s ``__init__`` (see the module docstring). Refused for a
    class whose ``__init__`` the dataclass does more in: ``__post_init__``, ``__slots__``, fields
    left out of ``__init__`` or keyword-only."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or "__slots__" in cls.__dict__ or \
            any(not f.init or f.kw_only for f in fields):
        raise TypeError(f"{cls.__name__}: quick_init takes plain fields only")
    names: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    params_src, body = [], ["    d = self.__dict__"]
    for f in fields:
        if f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
            params_src.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            params_src.append(f"{f.name}=_MISSING")
            body.append(f"    if {f.name} is _MISSING:\n        {f.name} = _factory_{f.name}()")
        else:
            params_src.append(f.name)
        body.append(f"    d[{f.name!r}] = {f.name}")
    source = f"def __init__(self, {', '.join(params_src)}):\n" + "\n".join(body) + "\n"
    exec(source, names)  # noqa: S102 - the source is built above from the class's field names
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)
    return cls
