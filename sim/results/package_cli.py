"""``ballotbox sim package``: the signed election package a simulated election uses (QA).

    ballotbox sim package --election cambodia-2022 --seed 7 --out out/sim.pkg

Writes a package (``device.election.package.build_package``) marked ``simulation``:

- its registry holds the simulated units' public keys for that seed
  (``sim.results.results_feed.unit_signer``: the keys ``ballotbox sim national --central`` signs with);
- it is signed by a *simulation authority* whose key is derived from the seed (not secret: a
  live central service refuses a simulation package whatever signs it); the authority's
  public key is written beside the package (``PKG.authority.pub``) and printed, for
  ``ballotbox central serve --authority``;
- the public results package beside it (``PKG.public.json``: what ``ballotbox central serve``
  takes; no voter, PIN or pseudonym key; ``device/election/public_package.py``);
- rolls: for a bundled election, a synthetic roll per station with the seed's registered count
  (``sim.results.results_feed.registered_voters``); for a national spec (``sim/national/specs``) no roll
  (millions of voters; the central tally then reads the registered counts from the election
  definition, which a national spec's generator fills in).
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from device.cli.main import UserError
from device.election.authority import AuthorityKey
from device.election.definition import Election, load_election
from device.election.names import election_help, election_names
from device.election.package import PackageBuildError, build_package
from device.election.voter_roll import Voter, VoterRoll
from sim.national.spec_source import NATIONAL_SPEC
from sim.results.results_feed import registered_voters, unit_signer


def register(subparsers) -> None:
    p = subparsers.add_parser("package", help="write the signed package of a simulated election",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--election", required=True, help=election_help())
    p.add_argument("--seed", type=int, required=True, help="the simulation's seed (same as the run's)")
    p.add_argument("--out", required=True, help="the package file to write (never overwritten)")
    p.add_argument("--json", action="store_true", help="print a summary as JSON")
    p.set_defaults(func=run_package)


def simulation_authority(seed: int) -> AuthorityKey:
    return AuthorityKey.from_seed(hashlib.sha256(f"{seed}:simulation-authority".encode()).digest())


def resolve_election(name: str) -> tuple[Election, bool]:
    """(election, whether it is a national spec) for a name of the one lookup
    (``device.election.names``: bundled, named or national spec) or a path."""
    row = election_names().get(name)
    if row is None:
        return load_election(name), False
    return row.load(), row.kind == NATIONAL_SPEC


def synthetic_rolls(election: Election, seed: int) -> list[VoterRoll]:
    n = 0
    rolls = []
    for sid in sorted(election.stations):
        voters = []
        for i in range(registered_voters(seed, sid)):
            n += 1
            voters.append(Voter(f"{sid}-V{i:06d}", f"S{seed % 1000:03d}{n:09d}", sid))
        rolls.append(VoterRoll(voters))
    return rolls


def write_public_package(out: Path, authority: AuthorityKey) -> Path:
    from device.election.package import load_package
    from device.election.public_package import build_public_package, public_path_for

    try:
        return build_public_package(load_package(out, authority.public_key_hex()), authority,
                                    public_path_for(out))
    except PackageBuildError as exc:
        raise UserError(str(exc)) from None


def run_package(args: argparse.Namespace) -> int:
    election, national = resolve_election(args.election)
    authority = simulation_authority(args.seed)
    units = {sid: [unit_signer(args.seed, sid).public_key_hex()] for sid in election.stations}
    rolls = VoterRoll([]) if national else synthetic_rolls(election, args.seed)
    pseudonym = hashlib.sha256(f"{args.seed}:pseudonym-key".encode()).digest()
    out = Path(args.out)
    try:
        build_package(election, rolls, authority, out, units=units, mode="simulation",
                      pseudonym_key=pseudonym)
    except PackageBuildError as exc:
        raise UserError(str(exc)) from None
    pub = out.with_name(out.name + ".authority.pub")
    pub.write_text(authority.public_key_hex() + "\n", encoding="ascii")
    public = write_public_package(out, authority)
    summary = {"package": str(out), "authority_public_key": authority.public_key_hex(),
               "authority_file": str(pub), "public_package": str(public), "election": election.id,
               "election_hash": election.hash,
               "stations": len(election.stations), "mode": "simulation", "seed": args.seed}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"wrote {out}: {election.title}, {len(election.stations)} stations, simulation units "
              f"of seed {args.seed}; authority key {authority.public_key_hex()} (in {pub}); "
              f"public results package {public}")
    return 0
