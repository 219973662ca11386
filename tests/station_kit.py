"""A small kit for controller tests: a controller on in-memory twins and logical paper."""
import random

from device.station.controller import StationController
from device.station.roles import StationAccess
from device.election.definition import load_election, parse_election
from device.election.identity import barcode_payload
from device.store.journal import MemoryStore
from device.election.voter_roll import Voter, VoterRoll
from hardware.interfaces import IdRecord
from sim.access import StandingAccess
from sim.logical_paper import LogicalPaper
from sim.memory_twins import build_memory_peripherals


class Kit:
    def __init__(self, election="demo", station="north-1", voters=20, store=None, policy=None,
                 jam_rate=0.0, seed=0, enforce=True, signer=None, staff=None, paper="logical",
                 mode="live", identity_after_document=()):
        e = load_election(election)
        if policy:
            e = parse_election({**e.raw, "policy": policy})
        self.election, self.station = e, station
        other = next(s for s in e.stations if s != station)
        self.voters = [Voter(f"V{i}", f"DOC{i:05d}", station) for i in range(voters)]
        self.others = [Voter(f"W{i}", f"OTH{i:05d}", other) for i in range(3)]
        self.roll = VoterRoll(self.voters + self.others, e)
        self.store = store if store is not None else MemoryStore()
        self.rng = random.Random(seed)
        self.periph = build_memory_peripherals(self.rng, jam_rate=jam_rate)
        if paper == "image":  # the real OpenCV interpreter on rendered, marked, distorted sheets
            from sim.image_paper import ImagePaper
            self.paper = ImagePaper(e)
        else:
            self.paper = LogicalPaper(e)
        self.now = [1_700_000_000.0]
        self.enforce, self.signer, self.mode = enforce, signer, mode
        self.identity_after_document = identity_after_document  # ID desk sources after the document
        self.staff = staff  # role -> PIN hash: operators log in; None: standing sessions (simulation)
        self.pseudonym_key = b"kit-pseudonym-key-0123456789abcdef"
        self.ctl = self.boot()

    def boot(self):
        self.ctl = StationController(
            self.election, self.station, self.roll, self.store, scanner=self.periph.scanner,
            camera=self.periph.camera, interpreter=self.paper.interpreter, printer=self.periph.printer,
            clock=lambda: self.now[0], rng=random.Random(99), enforce_authorisation=self.enforce,
            pseudonym_key=self.pseudonym_key, signer=self.signer, access=self.access(),
            mode=self.mode, identity_after_document=self.identity_after_document)
        return self.ctl

    def access(self):
        clock = lambda: self.now[0]  # noqa: E731
        if self.staff is None:
            return StandingAccess.for_roles(clock)
        return StationAccess(self.staff, clock)

    def checkin(self, voter_or_doc):
        doc = voter_or_doc.document_number if hasattr(voter_or_doc, "document_number") else voter_or_doc
        return self.ctl.present_id(IdRecord("barcode", barcode_payload(doc)))

    def marks(self, **by_contest):
        style = self.election.stations[self.station].ballot_style
        base = {c.id: (c.choice_ids()[0],) * 1 if c.vote_for == 1 else tuple(c.choice_ids()[:c.vote_for])
                for c in self.election.contests_for_style(style)}
        base.update({k: tuple(v) for k, v in by_contest.items()})
        return base

    def insert(self, marks=None, kind="ballot"):
        style = self.election.stations[self.station].ballot_style
        self.periph.world.insert_sheet(self.paper.make_sheet(style, marks or self.marks(), self.rng, kind))
        return self.ctl.handle_paper()
