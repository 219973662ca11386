"""Power-loss harness: station days killed with SIGKILL at seeded moments, restarted, finished.

Each run plays one logical-fidelity station day (built by ``sim/station.build_station_day`` on
persistent peripherals, played visit by visit with ``sim/station.visit``; the real
``StationController``) in a forked child process on a ``SqliteStore``. The child is
killed with a real ``SIGKILL`` at a seeded *kill point*: the N-th moment at which a write or a
motion happens — before a store transaction begins, inside it after the rows are written but
before ``COMMIT``, right after ``COMMIT`` (before the motor moves the sheet), and just before or
after each physical motion of a sheet. A seeded draw picks N, so a seed reproduces the same
kills exactly. The parent then starts a new child on the same database and the same physical
world — the box, the invalid compartment and a sheet in the path survive the power cut; they
are kept in ``world.pkl``, written atomically at every motion — which boots (the controller
replays its journal and resolves paper found in the path) and finishes the day. Up to
``max_kills`` kills per run.

After each run: sheets in the box and invalid compartment = cast vote records = ``ballot_cast``
events; no voter checked in twice; the export passes ``audit verify`` and ``audit replay``.

``python -m sim.day.power_loss --runs 300 --seed 1`` runs a campaign and prints a summary (exit 1
if any run failed). Tests run a small count; ``--runslow`` a larger one.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from device.audit.replay import replay_export
from device.audit.verify import verify_export
from device.election.definition import Election, load_election
from device.election.names import election_help
from device.results.exports import export_unit
from device.store.signing import provision
from device.store.sqlite import SqliteStore
from sim.day.memory_twins import MemoryCamera, MemoryIdReader, MemoryPrinter, MemoryScanner, MemoryWorld
from sim.unit.peripherals import StationPeripherals
from sim.day.station import SimClock, build_station_day, operator_clears, visit
from sim.day.voters import load_scenario


class KillSwitch:
    """Counts kill points; at the chosen one, notes where and SIGKILLs its own process."""

    def __init__(self, target: int | None, log: Path):
        self.target, self.log, self.count = target, log, 0

    def tick(self, where: str) -> None:
        self.count += 1
        if self.target is not None and self.count == self.target:
            with open(self.log, "a", encoding="utf-8") as fh:
                fh.write(f"{self.count} {where}\n")
            os.kill(os.getpid(), signal.SIGKILL)


class KillableStore(SqliteStore):
    """A SqliteStore whose writes pass three kill points (the store itself is unchanged)."""

    def __init__(self, path, kill: KillSwitch, **kw):
        self.kill = kill
        super().__init__(path, **kw)

    def _write(self, body) -> None:
        self.kill.tick("store: before BEGIN")

        def inside(conn):
            body(conn)
            self.kill.tick("store: rows written, before COMMIT")
        super()._write(inside)
        self.kill.tick("store: after COMMIT")

    def compact(self) -> None:
        self.kill.tick("store: before compaction")
        super().compact()
        self.kill.tick("store: after compaction")


class KillablePrinter(MemoryPrinter):
    """The printer: a kill point before and after each slip (zero report, results, ...)."""

    def __init__(self, kill: KillSwitch):
        super().__init__()
        self.kill = kill

    def print_slip(self, slip, timeout: float = 10.0) -> None:
        self.kill.tick(f"printer: before the {slip.kind} slip")
        super().print_slip(slip, timeout)
        self.kill.tick(f"printer: after the {slip.kind} slip")


class PersistentWorld(MemoryWorld):
    """The physical world, saved atomically at every motion so it survives the power cut."""

    def __init__(self, scanner: MemoryScanner, reader, printer, path: Path, kill: KillSwitch):
        super().__init__(scanner, reader, printer)
        self.path, self.kill, self.next_visitor = path, kill, 0
        scanner.after_motion = self.save  # type: ignore[attr-defined]

    def save(self, what: str = "world") -> None:
        self.kill.tick(f"{what}: before it happens")
        s = self.scanner
        state = {"entry": s.entry, "path": s.path, "returned": s.returned, "box": s.box,
                 "invalid": s.invalid_compartment, "jammed": s.jammed, "in_hand": self.in_hand,
                 "serial": self._serial, "next_visitor": self.next_visitor}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(state))
        os.replace(tmp, self.path)
        self.kill.tick(f"{what}: after it happened")

    def load(self) -> None:
        if not self.path.exists():
            return
        st = pickle.loads(self.path.read_bytes())
        s = self.scanner
        s.entry, s.path, s.returned = st["entry"], st["path"], st["returned"]
        s.box, s.invalid_compartment, s.jammed = st["box"], st["invalid"], st["jammed"]
        self.in_hand, self._serial, self.next_visitor = st["in_hand"], st["serial"], st["next_visitor"]

    def insert_sheet(self, frame: Any) -> None:
        super().insert_sheet(frame)
        self.save("voter inserts a sheet")

    def take_returned_sheet(self) -> Any | None:
        frame = super().take_returned_sheet()
        self.save("voter takes the sheet back")
        return frame

    def operator_removes_jammed_sheet(self) -> None:
        super().operator_removes_jammed_sheet()
        self.save("operator removes a jammed sheet")

    def operator_places_sheet(self, into_box: bool) -> Any | None:
        frame = super().operator_places_sheet(into_box)
        self.save("operator places the sheet")
        return frame


class PersistentScanner(MemoryScanner):
    after_motion = None

    def _moved(self, what: str) -> None:
        if self.after_motion:
            self.after_motion(what)

    def feed(self, timeout: float = 5.0) -> None:
        try:
            super().feed(timeout)
        finally:
            self._moved("feed")

    def accept(self, timeout: float = 5.0) -> None:
        super().accept(timeout)
        self._moved("drop into the box")

    def divert(self, timeout: float = 5.0) -> None:
        super().divert(timeout)
        self._moved("drop into the invalid compartment")

    def return_sheet(self, timeout: float = 5.0) -> None:
        super().return_sheet(timeout)
        self._moved("return the sheet")


@dataclasses.dataclass
class RunSpec:
    election: str
    voters: int
    seed: int


def _child(spec: RunSpec, work: Path, attempt: int, target: int | None) -> None:
    """One power-on of the unit: boot on the store and the world, play the rest of the day."""
    kill = KillSwitch(target, work / "kills.log")
    election = load_election(spec.election)
    scenario = load_scenario(None, election, spec.election)
    restart = {k: random.Random(f"{spec.seed}:{k}:{attempt}") for k in ("paper", "faults", "ids", "clock")}
    scanner = PersistentScanner(restart["faults"], scenario.jam_rate, scenario.double_feed_rate)
    reader, printer = MemoryIdReader(), KillablePrinter(kill)
    world = PersistentWorld(scanner, reader, printer, work / "world.pkl", kill)
    world.load()
    periph = StationPeripherals(scanner, MemoryCamera(scanner), reader, printer, world)
    store = KillableStore(work / "unit.db", kill, durability="simulation")
    signer = provision(store, random.Random(f"{spec.seed}:key"))
    last = None
    for last in store.events():
        pass
    clock = SimClock(last.at + 60 if last else 1_780_815_600.0)
    day = build_station_day(election, registered=spec.voters, seed=spec.seed, scenario=scenario,
                            store=store, signer=signer, peripherals=periph, rngs=restart, clock=clock)
    ctl, visitors = day.controller, day.visitors
    if ctl.ballot in ("error", "jammed"):  # the boot left a sheet for the operator to clear
        with open(work / "boot_faults.log", "a", encoding="utf-8") as fh:
            fh.write(f"{attempt} {ctl.ballot}\n")
        operator_clears(day)
    if ctl.polls in ("setup", "election_loaded"):
        ctl.open()
    if scanner.returned is not None:
        world.take_returned_sheet()  # a sheet handed back at power-on: the voter takes it
    while ctl.polls == "polls_open" and world.next_visitor < len(visitors):
        visitor = visitors[world.next_visitor]
        clock.advance(restart["clock"].expovariate(1 / 60))
        if ctl.counters.outstanding > 0:  # checked in before the cut, not yet cast
            visit(day, dataclasses.replace(visitor, document=None))
        elif not (visitor.voter_id and ctl.pseudonyms.of(visitor.voter_id) in ctl.counters.checked_in
                  and visitor.kind == "voter"):
            visit(day, visitor)
        world.next_visitor += 1
        world.save("visitor done")
    if ctl.polls in ("polls_open", "polls_paused"):
        ctl.close()
    store.close()
    (work / "kill_points").write_text(str(kill.count))


def _fork(spec: RunSpec, work: Path, attempt: int, target: int | None) -> int:
    """Run ``_child`` in a forked process; return its wait status (signal or exit code)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's code
        code = 0
        try:
            _child(spec, work, attempt, target)
        except BaseException:
            (work / f"child-error-{attempt}.txt").write_text(traceback.format_exc())
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


def count_kill_points(spec: RunSpec, work: Path) -> int:
    """How many kill points a whole uninterrupted day passes (the range kill targets come from)."""
    work.mkdir(parents=True, exist_ok=True)
    status = _fork(spec, work, 0, None)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        err = work / "child-error-0.txt"
        raise RuntimeError(f"the uninterrupted day failed: {err.read_text() if err.exists() else status}")
    return int((work / "kill_points").read_text())


def run_once(spec: RunSpec, work: Path, rng: random.Random, points: int, max_kills: int,
             targets: list[int] | None = None) -> dict:
    """One day killed up to ``max_kills`` times at seeded points (or at ``targets``, in order),
    restarted after each kill and finished; then checked (``check_run``)."""
    work.mkdir(parents=True, exist_ok=True)
    kills, attempt = [], 0
    n_kills = len(targets) if targets is not None else rng.randint(1, max_kills)
    while True:
        attempt += 1
        if len(kills) >= n_kills:
            target = None
        elif targets is not None:
            target = targets[len(kills)]
        else:  # days differ in length by seed: draw from the first 60 % of a typical day's points
            target = rng.randint(1, max(1, int(points * 0.6)))
        status = _fork(spec, work, attempt, target)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            kills.append(target)
            continue
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            break
        err = work / f"child-error-{attempt}.txt"
        return {"seed": spec.seed, "ok": False, "kills": kills,
                "problems": [f"child failed on restart {attempt}: "
                             f"{err.read_text().strip().splitlines()[-1] if err.exists() else status}"]}
    return check_run(spec, work, kills)


def check_run(spec: RunSpec, work: Path, kills: list) -> dict:
    election: Election = load_election(spec.election)
    world = pickle.loads((work / "world.pkl").read_bytes())
    store = SqliteStore(work / "unit.db")
    events = list(store.events())
    cvrs = store.cast_vote_records()
    casts = sum(r.type == "ballot_cast" for r in events)
    paper = len(world["box"]) + len(world["invalid"])
    voters = [r.data["voter"] for r in events if r.type == "authorise"]
    problems = []
    if not paper == len(cvrs) == casts:
        problems.append(f"sheets in the box {paper}, cast vote records {len(cvrs)}, cast events {casts}")
    if len(voters) != len(set(voters)):
        problems.append("a voter was checked in twice")
    if world["path"] is not None or world["in_hand"] is not None:
        problems.append("a sheet was left in the path at the end of the day")
    signer = provision(store, random.Random(f"{spec.seed}:key"))
    export_unit(store, election, work / "export", signer)
    store.close()
    for rep in (verify_export(work / "export"), replay_export(work / "export")):
        problems += [f"audit {rep.check}: {f}" for f in rep.faults[:3]]
    where = (work / "kills.log").read_text().splitlines() if (work / "kills.log").exists() else []
    boot_faults = (work / "boot_faults.log").read_text().splitlines() if (work / "boot_faults.log").exists() else []
    return {"seed": spec.seed, "ok": not problems, "kills": kills, "kill_points": where,
            "boots_needing_operator": len(boot_faults), "ballots": len(cvrs), "problems": problems}


def campaign(root: Path, runs: int, seed: int, *, election: str = "demo", voters: int = 30,
             max_kills: int = 3) -> list[dict]:
    """``runs`` killed-and-restarted days; one result dict per run."""
    rng = random.Random(f"power-loss:{seed}")
    points = count_kill_points(RunSpec(election, voters, seed), root / "count")
    return [run_once(RunSpec(election, voters, seed * 100_000 + i), root / f"run-{i:04d}", rng,
                     points, max_kills) for i in range(runs)]


def sweep(root: Path, seed: int, *, election: str = "demo", voters: int = 4) -> list[dict]:
    """One run per kill point of a short day, killed exactly there: every phase of the day —
    opening, each check-in and cast (before, inside and after each transaction, before and
    after each motion of a sheet), the close, its checkpoint, the results print, the
    compaction — is cut once."""
    spec = RunSpec(election, voters, seed)
    points = count_kill_points(spec, root / "count")
    rng = random.Random(seed)
    return [run_once(spec, root / f"point-{t:04d}", rng, points, 1, targets=[t])
            for t in range(1, points + 1)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.day.power_loss", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=50, help="station days to kill and restart (default 50)")
    p.add_argument("--seed", type=int, default=1, help="campaign seed (default 1)")
    p.add_argument("--election", default="demo", help=election_help("demo"))
    p.add_argument("--voters", type=int, default=30, help="registered voters per day (default 30)")
    p.add_argument("--max-kills", type=int, default=3, help="kills per day at most (default 3)")
    p.add_argument("--dir", default=None, help="keep the runs here (default: a temporary folder)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.runs < 1 or args.voters < 1 or args.max_kills < 1:
        print("python -m sim.day.power_loss: error: --runs, --voters and --max-kills must be >= 1", file=sys.stderr)
        return 2
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.dir or tmp)
        t0 = time.perf_counter()
        results = campaign(root, args.runs, args.seed, election=args.election, voters=args.voters,
                           max_kills=args.max_kills)
        elapsed = time.perf_counter() - t0
    failed = [r for r in results if not r["ok"]]
    summary = {"runs": len(results), "kills": sum(len(r["kills"]) for r in results),
               "boots_needing_operator": sum(r.get("boots_needing_operator", 0) for r in results),
               "failed": len(failed), "seconds": round(elapsed, 1), "failures": failed[:10]}
    print(json.dumps(summary, indent=1) if args.json else
          f"{summary['runs']} runs, {summary['kills']} kills, {summary['failed']} failed, "
          f"{summary['boots_needing_operator']} boots left a sheet for the operator, "
          f"{summary['seconds']} s" + "".join(f"\n  seed {r['seed']}: {r['problems']}" for r in failed[:10]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
