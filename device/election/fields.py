"""The checks every field of an election definition goes through, each error naming its JSON path.

``ElectionError`` is the one error of a bad definition; ``required`` reads a required field of
a type, ``optional`` an optional one, ``id_list`` an array of objects with unique ids,
``reference`` a reference to another item, ``other_names`` the optional names in other
languages (``in_language`` picks one), ``languages_of`` the ``languages`` object; ``ErrorList``
collects every error of one validation run (``device.election.definition``).
"""
from __future__ import annotations

from typing import Any

from device.i18n import DIGIT_SYSTEMS, LANGUAGES

DEFAULT_LANGUAGES: dict[str, Any] = {"ballot": ("en",), "reports": ("en",), "digits": "latin"}

Names = tuple[tuple[str, str], ...]  # (language, text) pairs beside the default name


def in_language(default: str, names: Names, lang: str) -> str:
    """``default`` in ``lang`` when the election gives it, else ``default``."""
    return next((text for code, text in names if code == lang), default)


class ElectionError(ValueError):
    """A malformed election definition; ``str()`` names the JSON path of the bad field."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(message if path == "$" else f"{path}: {message}")


def required(obj: dict, key: str, path: str, kind: type | tuple = str) -> Any:
    if not isinstance(obj, dict):
        raise ElectionError(path, "must be an object")
    if key not in obj:
        raise ElectionError(f"{path}.{key}", "is required")
    value = obj[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ElectionError(f"{path}.{key}", "must be a number, not true/false")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ElectionError(f"{path}.{key}", f"must be of type {_json_type(names)}")
    if kind is str and not str(value).strip():
        raise ElectionError(f"{path}.{key}", "must not be empty")
    return value


def optional(obj: dict, key: str, path: str, kind: type) -> Any:
    """An optional field: None when absent, else a non-empty string (``str``) or a whole number
    >= 0 (``int``)."""
    if key not in obj:
        return None
    value = obj[key]
    if kind is str and (not isinstance(value, str) or not value.strip()):
        raise ElectionError(f"{path}.{key}", "must be a non-empty string")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ElectionError(f"{path}.{key}", f"must be a whole number >= 0 (got {value!r})")
    return value


def _json_type(pyname: str) -> str:
    return {"str": "string", "int": "integer", "list": "array", "dict": "object",
            "float": "number", "int/float": "number"}.get(pyname, pyname)


class ErrorList:
    """Collects the errors of one validation run; ``item`` skips to the next item on an error."""

    def __init__(self) -> None:
        self.found: list[ElectionError] = []

    def item(self, fn, *args):
        try:
            return fn(*args)
        except ElectionError as exc:
            self.found.append(exc)
            return None


def id_list(items: Any, path: str, errors: ErrorList) -> list[tuple[str, dict]]:
    """Check an array of objects with unique string ids; return the good (path, obj) pairs."""
    if not isinstance(items, list):
        errors.found.append(ElectionError(path, "must be an array"))
        return []
    if not items:
        errors.found.append(ElectionError(path, "must not be empty"))
        return []
    seen: dict[str, int] = {}
    out = []
    for i, obj in enumerate(items):
        p = f"{path}[{i}]"
        ident = errors.item(required, obj, "id", p)
        if ident is None:
            continue
        if ident in seen:
            errors.found.append(ElectionError(f"{p}.id", f"duplicate id {ident!r} (also at {path}[{seen[ident]}])"))
            continue
        seen[ident] = i
        out.append((p, obj))
    return out


def reference(value: Any, known: dict, path: str, what: str) -> str:
    if not isinstance(value, str) or value not in known:
        raise ElectionError(path, f"unknown {what} {value!r}")
    return value


def other_names(obj: dict, key: str, path: str, languages: tuple[str, ...]) -> Names:
    """The optional ``names``/``titles`` object: language -> non-empty text."""
    value = obj.get(key, {})
    if not isinstance(value, dict):
        raise ElectionError(f"{path}.{key}", "must be an object (language -> text)")
    for lang, text in value.items():
        if lang not in languages:
            raise ElectionError(f"{path}.{key}.{lang}", f"language {lang!r} is not one of the "
                                                        f"election's languages ({', '.join(languages)})")
        if not isinstance(text, str) or not text.strip():
            raise ElectionError(f"{path}.{key}.{lang}", "must be non-empty text")
    return tuple(sorted(value.items()))


def languages_of(document: dict) -> dict[str, Any]:
    raw = document.get("languages")
    if raw is None:
        return dict(DEFAULT_LANGUAGES)
    if not isinstance(raw, dict):
        raise ElectionError("$.languages", "must be an object with 'ballot', 'reports' and 'digits'")
    for key in raw:
        if key not in DEFAULT_LANGUAGES:
            raise ElectionError(f"$.languages.{key}", f"unknown key (expected one of "
                                                      f"{', '.join(DEFAULT_LANGUAGES)})")
    out: dict[str, Any] = {}
    for key in ("ballot", "reports"):
        langs = raw.get(key, list(DEFAULT_LANGUAGES[key]))
        if not isinstance(langs, list) or not langs:
            raise ElectionError(f"$.languages.{key}", "must be a non-empty array of language codes")
        for i, lang in enumerate(langs):
            if lang not in LANGUAGES:
                raise ElectionError(f"$.languages.{key}[{i}]", f"must be one of "
                                                               f"{', '.join(LANGUAGES)} (got {lang!r})")
        if len(set(langs)) != len(langs):
            raise ElectionError(f"$.languages.{key}", "lists a language twice")
        out[key] = tuple(langs)
    digits = raw.get("digits", "latin")
    if digits not in DIGIT_SYSTEMS:
        raise ElectionError("$.languages.digits", f"must be one of {', '.join(DIGIT_SYSTEMS)} "
                                                  f"(got {digits!r})")
    out["digits"] = digits
    return out
