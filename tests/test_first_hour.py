"""A new user's first hour (issue 13): what the command line shows on bad input, in pipes, with
--json, and what the figures it prints promise. Each test runs the real command."""
import json
import subprocess
import sys

import pytest

from device.cli.main import main


def run(args, **kw):
    return subprocess.run([sys.executable, "-m", "device.cli.main", *args],
                          capture_output=True, text=True, **kw)


# --- one mechanism in main.py: --json errors, usage errors, broken pipes -----------------------
@pytest.mark.parametrize("args", [
    ["tally", "seats", "--seats", "0", "--votes", "A=3", "--json"],        # the command refuses
    ["tally", "seats", "--seats", "x", "--votes", "A=3", "--json"],        # argparse refuses
    ["sim", "station", "--election", "nowhere", "--json"],                  # an election error
])
def test_json_errors_are_json_and_exit_2(args):
    proc = run(args)
    assert proc.returncode == 2
    error = json.loads(proc.stdout)
    assert error["exit_status"] == 2 and error["error"]
    assert "Traceback" not in proc.stderr


def test_plain_usage_error_names_the_command_once(capsys):
    assert main(["tally", "seats", "--seats", "x", "--votes", "A=3"]) == 2
    err = capsys.readouterr().err
    assert "ballotbox tally seats: error: argument --seats" in err and err.startswith("usage:")


def test_output_piped_into_head_ends_without_traceback():
    votes = [f"P{i}={i + 1}" for i in range(20000)]  # far more output than a pipe buffers
    proc = subprocess.Popen([sys.executable, "-m", "device.cli.main", "tally", "seats", "--seats",
                             "5", "--votes", *votes], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"dhondt")
    proc.stdout.close()  # what `| head -1` does after its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0  # not 1, which means "a check failed"
    assert "Traceback" not in err and "BrokenPipe" not in err


# --- tally seats -------------------------------------------------------------------------------
def test_tally_seats_accepts_hare_as_largest_remainder_and_says_1_seat(capsys):
    assert main(["tally", "seats", "--method", "hare", "--seats", "3", "--votes",
                 "A=50", "B=30", "C=20"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "largest-remainder: 3 seats, 100 valid votes"
    assert "1 seat\n" in out and "1 seats" not in out
    assert main(["tally", "seats", "--method", "hare", "--seats", "7", "--votes", "A=50", "B=30",
                 "C=20", "--json"]) == 0
    hare = json.loads(capsys.readouterr().out)
    assert hare["method"] == "largest-remainder" and hare["seats"] == {"A": 4, "B": 2, "C": 1}
    helptext = run(["tally", "seats", "--help"]).stdout
    assert "hare" in helptext and "Hare quota" in helptext


# --- elections and scenarios by name -----------------------------------------------------------
def test_election_names_reach_the_simulators_test_elections(capsys):
    assert main(["sim", "station", "--election", "dense-34", "--voters", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["election"] == "dense-34"


def test_unknown_scenario_lists_the_bundled_ones():
    proc = run(["sim", "station", "--scenario", "nosuch"])
    assert proc.returncode == 2
    assert "bundled: cambodia-2022, demo, kyrgyzstan-2017" in proc.stderr


# --- sim station: a used store, a bad profile --------------------------------------------------
def test_station_on_a_store_holding_a_closed_day_says_so_exit_2(tmp_path):
    store = str(tmp_path / "unit.db")
    assert run(["sim", "station", "--voters", "10", "--store", store, "--json"]).returncode == 0
    proc = run(["sim", "station", "--voters", "10", "--store", store])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line, = proc.stderr.strip().splitlines()
    assert "already holds a closed day" in line and "give a new --store path" in line
    assert "device export" in line


NO_PROFILE = "no profile file or bundled profile named 'nosuch'"
BAD_PROFILE = "faults.jam_rate is a probability"


@pytest.mark.parametrize("fidelity, profile, words", [
    ("logical", "nosuch", NO_PROFILE), ("image", "BAD", BAD_PROFILE),
    ("full", "nosuch", NO_PROFILE), ("logical", "BAD", BAD_PROFILE),
])
def test_bad_profile_is_refused_at_every_fidelity(tmp_path, fidelity, profile, words):
    if profile == "BAD":
        profile = str(tmp_path / "bad.json")
        (tmp_path / "bad.json").write_text('{"faults": {"jam_rate": 3}}')
    proc = run(["sim", "station", "--voters", "5", "--fidelity", fidelity, "--profile", profile])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line, = proc.stderr.strip().splitlines()
    assert words in line


# --- a station's results are its votes; seats belong to the commune -----------------------------
def test_station_results_slip_shows_votes_and_no_seat_allocation(tmp_path, capsys):
    out = tmp_path / "day"
    assert main(["sim", "station", "--election", "cambodia-2022", "--voters", "40", "--seed", "4",
                 "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    council = report["results"]["council"]
    assert council["seats"] is None and "from the votes of all its stations" in council["note"]
    slip, = (out / "slips").glob("*results*.txt")
    text = slip.read_text()
    assert "seats:" not in text
    assert "seats are allocated for Teuk La'ak I" in " ".join(text.split())
    cpp = council["votes"]["CPP"]
    assert any(line.startswith("  Cambodian People's Party") and line.endswith(f" {cpp}")
               for line in text.splitlines())


# --- sim accuracy passes only on what it promises ------------------------------------------------
def test_accuracy_reports_read_rate_and_fails_when_most_ballots_are_rejected(capsys):
    args = ["sim", "accuracy", "--election", "kyrgyzstan-2017", "--ballots", "3",
            "--distortion", "severe", "--workers", "1"]
    assert main(args + ["--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["misreads"]["total"] == 0 and report["read_rate"] < 0.99
    assert report["read_rate"] == round(report["ballots_read"] / report["ballots"], 6)
    assert main(args) == 1
    out = capsys.readouterr().out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("FAIL: misreads 0 (needs 0)") and "(needs >= 99.0%)" in verdict
    assert f"read {report['ballots_read']} ({report['read_rate']:.1%})" in out
    assert main(args + ["--min-read-rate", "0"]) == 0  # a misreads-only run, and it says so
    assert "PASS" in (last := capsys.readouterr().out.strip().splitlines()[-1]) and "not judged" in last
    assert "--min-read-rate" in run(["sim", "accuracy", "--help"]).stdout


# --- the demo shows what the README says --------------------------------------------------------
def test_demo_day_meets_every_refusal_the_readme_names(capsys):
    from pathlib import Path
    import shlex
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("sim station", 1)[1].split("\n\t@echo", 1)[0]
    words = shlex.split(recipe.replace("\\\n", " "))
    demo = {k: v for k, v in zip(words, words[1:]) if k in ("--election", "--station", "--voters",
                                                           "--seed")}
    assert demo["--election"] == "cambodia-2022" and demo["--voters"] == "300"
    # the visitors of a day do not depend on the fidelity: logical fidelity plays the same day
    assert main(["sim", "station", *[x for kv in demo.items() for x in kv], "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)["reconciliation"]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "not on\nthe roll" in readme or "not on the roll" in readme
    assert {"already_voted", "other_station", "not_on_roll", "invalid_document"} <= set(rec["refused_by_reason"])
    assert rec["rejected_by_reason"].get("no_authorisation", 0) >= 1  # ballot without check-in


def test_readme_export_command_works_after_the_demo(tmp_path):
    from pathlib import Path
    import shlex
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = next(l for l in readme.splitlines() if l.startswith("ballotbox device export"))
    words = shlex.split(line.split("#")[0])[1:]
    # what make demo leaves behind (at logical fidelity: the same kind of unit database)
    assert run(["sim", "station", "--election", "cambodia-2022", "--voters", "20",
                "--store", "out/demo/unit.db", "--json"], cwd=tmp_path).returncode == 0
    from sim.unit.access import SIMULATION_PINS
    pin = SIMULATION_PINS["election_manager"] + "\n"  # the README says to give it on stdin
    assert run(["device", "export", "--store", "out/demo/unit.db", "--out", "out/demo/export",
                "--pin-stdin"], cwd=tmp_path, input=pin).returncode == 0
    proc = run(words, cwd=tmp_path, input=pin)
    assert proc.returncode == 0, proc.stderr
    assert "exported" in proc.stdout


# --- ballots interpret: names, each contest's status, missing files, the election from the QR ----
def test_interpret_prints_names_and_status_and_finds_the_election_itself(tmp_path, capsys):
    import random
    import cv2
    from device.election.definition import load_election
    from sim.paper.image_paper import ImagePaper
    sheet = ImagePaper(load_election("demo")).make_sheet(
        "north-ballot", {"council": ("RIV",), "parks": ("p-dara", "p-elif", "p-farid")},
        random.Random(1))
    png = tmp_path / "marked.png"
    cv2.imwrite(str(png), sheet)
    assert main(["ballots", "interpret", str(png)]) == 0  # no --election: the QR names it
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{png}: Riverside municipal election (demo), style north-ballot"
    assert "  Ward council (vote for 1): VALID: River Alliance" in out
    assert "  Mayor (vote for 1): BLANK: no mark" in out
    assert "  Parks board (vote for 2): OVERVOTE: Dara Lim, Elif Demir, Farid Haddad" in out
    missing = tmp_path / "nosuch.png"
    assert main(["ballots", "interpret", str(png), str(missing), "--json"]) == 2
    first, second = (json.loads(l) for l in capsys.readouterr().out.splitlines())
    assert first["election"] == "demo-2026" and first["contests"]["mayor"]["status"] == "blank"
    assert first["contests"]["parks"]["status"] == "overvote"
    assert second == {"image": str(missing), "error": "no such file"}


def test_accuracy_shows_progress_on_a_terminal_even_with_json():
    import os
    import pty
    leader, follower = pty.openpty()  # stderr is a terminal, stdout a pipe
    proc = subprocess.Popen([sys.executable, "-m", "device.cli.main", "sim", "accuracy",
                             "--ballots", "2", "--workers", "1", "--json"],
                            stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    out, _ = proc.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.returncode == 0 and json.loads(out)["ballots"] == 2
    assert b"ballots" in seen and b"100%" in seen  # rich's bar reached the end



def test_export_of_a_unit_loaded_from_a_package_needs_no_election(tmp_path, capsys, monkeypatch):
    """The README's authority and operator steps, then an export with no --election."""
    import io
    monkeypatch.chdir(tmp_path)
    assert main(["election", "keygen", "--out", "keys", "--json"]) == 0
    capsys.readouterr()
    assert main(["device", "provision", "--store", "unit.db", "--authority", "keys/authority.pub",
                 "--unit-key", "unit.key", "--json"]) == 0
    unit_key = json.loads(capsys.readouterr().out)["unit_public_key"]
    (tmp_path / "units.json").write_text(json.dumps({"north-1": [unit_key]}))
    assert main(["sim", "station", "--voters", "10", "--out", "day", "--json"]) == 0
    assert main(["election", "package", "--election", "demo", "--roll", "day/roll.csv", "--key",
                 "keys/authority.key", "--units", "units.json", "--out", "demo.bbpkg"]) == 0
    pins = (tmp_path / "demo.bbpkg.pins.csv").read_text().splitlines()
    pin = next(l.split(",")[2] for l in pins if l.startswith("north-1,election_manager,"))
    monkeypatch.setattr("sys.stdin", io.StringIO(pin + "\n" + pin + "\n"))
    assert main(["device", "load", "--store", "unit.db", "--package", "demo.bbpkg",
                 "--pin-stdin"]) == 0
    capsys.readouterr()
    assert main(["device", "export", "--store", "unit.db", "--out", "export", "--json",
                 "--pin-stdin"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["station"] == "north-1" and summary["cast_vote_records"] == 0


def test_device_run_says_its_day_in_words_and_plurals():
    from device.i18n import translator
    from device.console.launch import day_summary
    from device.unit.view import UnitView

    one = day_summary(UnitView(station="north-1", polls="polls_closed", checked_in=1, cast=1))
    assert one.text() == "Station north-1: polls CLOSED, 1 checked in, 1 ballot cast."
    many = day_summary(UnitView(station="north-1", polls="polls_closed", checked_in=3, cast=3))
    assert "3 ballots cast" in many.text() and "polls_closed" not in many.text()
    assert "3 бюллетеня" in translator("ru").words(many) and "1 бюллетень" in translator("ru").words(one)


def test_sim_peripherals_help_is_written_for_users():
    from device.election.identity import BARCODE_PREFIX

    out = run(["sim", "peripherals", "--help"]).stdout
    assert "``" not in out and ".py" not in out and "VERBS" not in out
    assert f"card {BARCODE_PREFIX}" in out  # what a voter card's payload looks like
    assert 'scanner = "socket://127.0.0.1:7000"' in out  # where a unit.toml finds the twins


@pytest.mark.parametrize("store, key, says", [
    ("nodir/unit.db", None, "no such folder nodir for the unit store nodir/unit.db"),
    ("unit.db", "nodir/unit.key", "no such folder nodir for the unit key file nodir/unit.key"),
])
def test_provision_into_a_missing_folder_names_it_once(tmp_path, store, key, says):
    from device.election.authority import AuthorityKey
    pub = tmp_path / "authority.pub"
    pub.write_text(AuthorityKey.from_seed(b"\x01" * 32).public_key_hex() + "\n")
    args = ["device", "provision", "--store", store, "--authority", str(pub)] + (["--unit-key", key] if key else [])
    proc = run(args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == f"ballotbox: error: {says} (create it first)"
    assert not (tmp_path / "unit.db").exists()


def test_verifying_a_missing_package_is_no_such_file_exit_2(tmp_path):
    proc = run(["election", "verify", str(tmp_path / "nothere.bbpkg"), "--authority", "ab" * 32])
    assert proc.returncode == 2 and f"no such file: {tmp_path / 'nothere.bbpkg'}" in proc.stderr


def test_a_piped_pin_without_pin_stdin_says_what_to_do(tmp_path):
    from device.election.authority import AuthorityKey
    pub = tmp_path / "authority.pub"
    pub.write_text(AuthorityKey.from_seed(b"\x02" * 32).public_key_hex() + "\n")
    assert run(["device", "provision", "--store", "unit.db", "--authority", str(pub)], cwd=tmp_path).returncode == 0
    proc = run(["device", "unload", "--store", "unit.db"], cwd=tmp_path, input="135790\n")
    assert proc.returncode == 2 and "Warning" not in proc.stderr
    assert proc.stderr.strip() == ("ballotbox: error: the election manager's PIN is needed: give it on "
                                   "standard input with --pin-stdin")


def test_export_of_a_day_whose_polls_are_open_says_so(tmp_path, capsys, monkeypatch):
    import io

    from device.store.signing import provision
    from device.store.sqlite import SqliteStore
    from sim.unit.access import SIMULATION_PINS, mark_simulation_store
    from tests.station_kit import Kit

    store = SqliteStore(tmp_path / "unit.db")
    mark_simulation_store(store)
    kit = Kit(store=store, signer=provision(store))
    kit.ctl.open()
    assert kit.checkin(kit.voters[0]).authorised and kit.insert().status == "cast"
    store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO(SIMULATION_PINS["election_manager"] + "\n"))
    assert main(["device", "export", "--store", str(tmp_path / "unit.db"), "--out", str(tmp_path / "x"),
                 "--election", "demo", "--pin-stdin"]) == 0
    assert "the polls are still open" in capsys.readouterr().err
    store = kit.store = SqliteStore(tmp_path / "unit.db")
    kit.boot()
    kit.ctl.close()
    store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO(SIMULATION_PINS["election_manager"] + "\n"))
    assert main(["device", "export", "--store", str(tmp_path / "unit.db"), "--out", str(tmp_path / "y"),
                 "--election", "demo", "--pin-stdin"]) == 0
    assert "still open" not in capsys.readouterr().err
