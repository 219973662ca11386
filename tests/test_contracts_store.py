"""The store's contracts are declared, not discovered (issue 20 §2).

- No module in device/ or central/ looks a store capability up with ``getattr``/``hasattr``.
- ``ForwardingStore`` forwards exactly the names ``StationStore`` declares, to the real store,
  and the wrappers (the console's tap, the simulator's power cuts and miscounts) build on it
  with no ``__getattr__``.
- Every store chains with the one ``ChainWriter``: the same events give the same records in
  memory, in the unit's SQLite store, in the central SQLite store and on a real PostgreSQL server.
"""
from __future__ import annotations

import ast
import inspect
import itertools
from pathlib import Path

import pytest

from central.store import open_central_store
from device.store.cast_vote_record import CastVoteRecord
from device.store.forwarding import ForwardingStore
from device.store.journal import (GENESIS_HASH, ChainedJournal, ChainWriter, MemoryStore, StationStore,
                                  StoreWriteError, UnitMetadata)
from device.store.outbox import Outbox
from device.store.signing import KEY_META, provision
from device.store.sqlite import SqliteStore
from device.unit.journal_tap import JournalTap
from sim.national.miscount import MiscountingStore
from sim.national.station_run import CuttableStore
from tests.central_kit import postgres_server

ROOT = Path(__file__).resolve().parent.parent


def _public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


CAPABILITIES = _public(StationStore) | _public(UnitMetadata) | _public(ChainedJournal)


def _lookups(path: Path) -> list[str]:
    """``getattr(x, "name")`` / ``hasattr(x, "name")`` of a store capability in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in CAPABILITIES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_in_device_or_central_looks_up_a_store_capability():
    assert {"head", "path", "read_meta", "write_meta", "unit_metadata", "outbox", "flush"} <= CAPABILITIES
    found = [hit for top in ("device", "central") for p in sorted((ROOT / top).rglob("*.py"))
             for hit in _lookups(p)]
    assert found == []


def test_the_forwarding_base_forwards_exactly_what_the_contract_declares():
    own = {n for n, v in vars(ForwardingStore).items() if not n.startswith("_")}
    assert own == _public(StationStore)
    assert not inspect.isabstract(ForwardingStore)


@pytest.mark.parametrize("wrapper", [JournalTap, CuttableStore, MiscountingStore])
def test_the_wrappers_build_on_the_forwarding_base_without_getattr(wrapper):
    assert issubclass(wrapper, ForwardingStore)
    assert all("__getattr__" not in vars(c) for c in wrapper.__mro__)


def _cvr(n: int) -> CastVoteRecord:
    return CastVoteRecord(f"cvr-{n:04d}", "style-1", {"mayor": (("alice",), "valid")})


def test_every_declared_method_reaches_the_real_store(tmp_path):
    inner = SqliteStore(tmp_path / "unit.db", durability="simulation")
    tap = ForwardingStore(inner)
    rec = tap.append_event("unit_started", {"n": 1}, 10.0)
    staged = tap.append_event("operator_note", {"n": 2}, 11.0, durable=False)
    assert tap.head == inner.head == (staged.seq, staged.hash) and tap.head_at == 11.0
    tap.flush()
    cast = tap.cast_ballot(_cvr(1), {"style": "style-1"}, 12.0)
    assert [r.hash for r in tap.events()] == [rec.hash, staged.hash, cast.hash]
    assert tap.cast_vote_records() == inner.cast_vote_records() == [_cvr(1)]
    assert tap.path == inner.path and tap.unit_metadata() is inner
    outbox = tap.outbox()
    assert isinstance(outbox, Outbox)
    with outbox:
        assert outbox.items() == []
    tap.compact()
    tap.close()
    assert [r.hash for r in SqliteStore(tmp_path / "unit.db", durability="simulation").events()] == \
        [rec.hash, staged.hash, cast.hash]  # flushed and closed through the wrapper


def test_a_memory_store_declares_that_it_keeps_no_file_metadata_or_outbox():
    store = JournalTap(MemoryStore())
    assert store.path is None and store.unit_metadata() is None and store.outbox() is None
    provision(store)  # a key that lives as long as the signer: nothing to keep


def test_the_unit_key_is_kept_through_the_tap(tmp_path):
    inner = SqliteStore(tmp_path / "unit.db", durability="simulation")
    signer = provision(JournalTap(inner))
    assert inner.read_meta(KEY_META) == signer.private_bytes()
    assert provision(JournalTap(inner)).public_key_hex() == signer.public_key_hex()


EVENTS = [("unit_started", {"version": "1", "tuple": (1, 2)}, 100), ("checkpoint", {"reason": "x"}, 100.5),
          ("result_accepted", {"station": "s-1", "n": {"3": 4}}, 101.25)]
_names = itertools.count()


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as url:
        yield url


def _stores(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> ChainedJournal:
    if kind == "memory":
        return MemoryStore()
    if kind == "unit-sqlite":
        return SqliteStore(tmp_path / "unit.db", durability="simulation")
    if kind == "central-sqlite":
        return open_central_store(str(tmp_path / "central.db"), durability="simulation")
    import psycopg
    server = request.getfixturevalue("postgres")
    name = f"contracts_{next(_names)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return open_central_store(server.rsplit("/", 1)[0] + "/" + name)


@pytest.mark.parametrize("kind", ["memory", "unit-sqlite", "central-sqlite", "postgresql"])
def test_every_store_keeps_the_same_chained_journal(kind, tmp_path, request):
    store = _stores(kind, tmp_path, request)
    try:
        assert store.head == (0, GENESIS_HASH) and store.head_at == 0
        expected = ChainWriter(canonical=True).chain(EVENTS)
        records = [store.append_event(t, d, at) for t, d, at in EVENTS]
        store.flush()
        assert [r.hash for r in records] == [r.hash for r in expected]
        assert [r.hash for r in store.events()] == [r.hash for r in expected]
        assert store.head == (expected[-1].seq, expected[-1].hash) and store.head_at == 101.25
    finally:
        store.close()


def test_the_chain_writer_moves_the_head_only_when_the_write_returns():
    chain = ChainWriter()
    staged = chain.chain([("a", {}, 1.0)])
    chain.stage(staged)
    failing = chain.chain([("b", {}, 2.0)])

    def write(batch):
        raise StoreWriteError("disk full")
    with pytest.raises(StoreWriteError):
        chain.commit(write, failing)
    assert chain.head == (1, staged[0].hash) and chain.staged == staged  # staged kept, the failed dropped
    written = []
    chain.commit(written.extend, chain.chain([("c", {}, 3.0)]))
    assert [r.seq for r in written] == [1, 2] and chain.head[0] == 2 and chain.staged == []


def test_the_central_sqlite_store_shares_the_journal_not_the_units_store():
    from central.store import CentralStore, SqliteCentralStore
    from device.store.sqlite_journal import SqliteJournal
    assert issubclass(SqliteCentralStore, SqliteJournal) and issubclass(SqliteCentralStore, CentralStore)
    assert not issubclass(SqliteCentralStore, (SqliteStore, StationStore))  # no ballots, no unit metadata
    assert issubclass(SqliteStore, SqliteJournal)
