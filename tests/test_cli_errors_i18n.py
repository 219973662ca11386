"""Every CLI error line in the language the user chose (``--lang``): one line, exit 2, one language.

Two halves:

- A representative error of each command group (device, audit, election, central, sim, ballots,
  tally) in every language: the line is exactly the catalog's translation of
  "{prog}: error: {message}" around the catalog's translation of the message, on standard error,
  exit 2, no traceback, and none of the message's English words is left in a translated line;
  an operator's refusal (exit 1) too. Each language runs a few of them through the real
  ``ballotbox`` command (subprocesses: about half a second of CPU each, so 9 in all, every group
  in some translated language), and every one in-process through ``main`` (milliseconds).
- An AST scan of device/, sim/ and central/: every ``UserError(...)`` is either translated
  (``translated=True`` with a message made by ``_``, whose msgid every catalog translates) or
  passes an exception's own text through — so a new English-only error fails this test.
"""
from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from device.i18n import LANGUAGES, catalog

ROOT = Path(__file__).resolve().parents[1]
BALLOTBOX = Path(sys.executable).with_name("ballotbox")  # the command users run
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
SCRIPT = {"ru": "[\u0400-\u04ff]", "ky": "[\u0400-\u04ff]", "km": "[\u1780-\u17ff]"}
ERROR_LINE = "{prog}: error: {message}"


@dataclass(frozen=True)
class CliError:
    """One command line that is bad input, and the message (a catalog msgid + fields) it gets."""

    group: str
    argv: tuple[str, ...]
    msgid: str
    fields: dict[str, str] = field(default_factory=dict)
    status: int = 2
    stream: str = "stderr"
    line: str = ERROR_LINE  # the msgid around the message (a refusal has none: "{message}")


CASES = (
    CliError("ballots", ("ballots", "render", "demo", "--dpi", "10", "--out", "{tmp}/ballots"),
             "--dpi must be between 50 and 1200 (got {dpi})", {"dpi": "10"}),
    CliError("tally", ("tally", "seats", "--seats", "3", "--votes", "A=1", "A=2"),
             "--votes: party {party} given twice", {"party": "'A'"}),
    CliError("audit", ("audit", "verify", "{tmp}", "--authority", "{tmp}/authority.pub"),
             "--authority goes with --package"),
    CliError("election", ("election", "package", "--election", "demo", "--roll", "{tmp}/roll.csv",
                          "--key", "{tmp}/authority.key", "--out", "{tmp}/p.bbpkg",
                          "--manager-pin-length", "3"),
             "--manager-pin-length must be {low} to {high} (got {given})",
             {"low": "6", "high": "12", "given": "3"}),
    CliError("device", ("device", "send", "--store", "{tmp}/roll.csv", "--central", "ftp://tally"),
             "--central must be an http:// or https:// URL"),
    CliError("central", ("central", "accept", "north-1", "--sequence", "1", "--reason", " ",
                         "--db", "{tmp}/central.db"),
             "--reason: say why the authority accepts this result"),
    CliError("sim", ("sim", "station", "--voters", "0"), "--voters must be at least 1"),
)
# An operator's refusal (exit 1, on standard output): a unit store with no package has no PINs.
REFUSAL = CliError(
    "refusal", ("device", "send", "--store", "{tmp}/fresh.db", "--central", "http://127.0.0.1:9",
               "--pin-stdin"),
    "refused ({reason}): {message}", {"reason": "no_pin"}, status=1, stream="stdout", line="{message}")
NO_PIN = ("{source}: the {role} has no PIN on this unit, so it cannot act",
          "no election package is loaded", "poll worker")


def expected_line(case: CliError, lang: str) -> str:
    """The whole line, every part from the catalog of ``lang`` (English: the msgids)."""
    tr = catalog(lang).gettext
    fields = dict(case.fields)
    if case is REFUSAL:
        template, source, role = NO_PIN
        fields["message"] = tr(template).format(source=tr(source), role=tr(role))
    message = tr(case.msgid).format(**fields)
    return tr(case.line).format(prog="ballotbox", message=message)


def english_words(case: CliError) -> set[str]:
    """The msgid's own English words: not its {fields}, --options, URLs or CAPITALS."""
    text = re.sub(r"\{[^}]*\}|\S*(?:--|://)\S*", " ", case.msgid)
    return {w for w in re.findall(r"\b[a-z]{3,}\b", text)}


BY_GROUP = {case.group: case for case in CASES + (REFUSAL,)}
# Through the real command: every group (and the refusal) in some translated language.
SUBPROCESS_RUNS = {"en": ("central",), "ru": ("ballots", "device", "refusal"),
                   "ky": ("audit", "sim", "tally"), "km": ("election", "central")}


def _argv(case: CliError, lang: str, tmp: Path) -> list[str]:
    return ["--lang", lang, *(a.replace("{tmp}", str(tmp)) for a in case.argv)]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A folder with what the command lines name: an empty voter roll, a unit store."""
    from device.store.sqlite import SqliteStore

    tmp = tmp_path_factory.mktemp("cli-errors")
    (tmp / "roll.csv").write_text("voter_id,document_number,station_id\n", encoding="utf-8")
    SqliteStore(str(tmp / "fresh.db")).close()  # a unit store: no package, so no staff PINs
    return tmp


@pytest.fixture(scope="module")
def ran(inputs) -> dict[tuple[str, str], subprocess.CompletedProcess]:
    """The subprocess runs, made once, two at a time."""
    jobs = [(group, lang) for lang, groups in SUBPROCESS_RUNS.items() for group in groups]

    def run(job: tuple[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run([str(BALLOTBOX), *_argv(BY_GROUP[job[0]], job[1], inputs)], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=300, cwd=inputs)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(run, jobs)))


def _check(case: CliError, lang: str, proc: subprocess.CompletedProcess) -> None:
    said = getattr(proc, case.stream)
    other = proc.stdout if case.stream == "stderr" else proc.stderr
    assert proc.returncode == case.status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr and other == "", (proc.stdout, proc.stderr)
    assert said.count("\n") == 1, said  # one line
    line = said.rstrip("\n")
    assert line == expected_line(case, lang)
    if lang == "en":
        assert not any(re.search(SCRIPT[t], line) for t in TRANSLATED), line
        return
    assert re.search(SCRIPT[lang], line), line
    bare = line
    for value in case.fields.values():
        bare = bare.replace(value, " ")
    left = {w for w in english_words(case) if re.search(rf"\b{w}\b", bare, re.IGNORECASE)}
    assert not left, f"English words {sorted(left)} left in a {lang} line: {line}"


@pytest.mark.parametrize("group, lang", [(g, lang) for lang, groups in SUBPROCESS_RUNS.items() for g in groups])
def test_the_real_command_says_an_error_in_one_line_of_the_chosen_language(ran, group, lang):
    _check(BY_GROUP[group], lang, ran[(group, lang)])


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("group", list(BY_GROUP))
def test_every_group_in_every_language_through_main(inputs, capsys, monkeypatch, group, lang):
    from device import i18n
    from device.cli.main import main

    monkeypatch.chdir(inputs)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # as the subprocesses' /dev/null
    try:
        status = main(_argv(BY_GROUP[group], lang, inputs))
    finally:
        i18n.set_language("en")
    said = capsys.readouterr()
    _check(BY_GROUP[group], lang, subprocess.CompletedProcess([], status, said.out, said.err))


def test_the_check_catches_a_line_in_two_languages():
    """The old line: the prefix translated, the message English (or the other way round)."""
    case = CASES[0]
    mixed = subprocess.CompletedProcess([], 2, "", "ballotbox: ошибка: --dpi must be between 50 and "
                                                   "1200 (got 10)\n")
    with pytest.raises(AssertionError):
        _check(case, "ru", mixed)
    half = expected_line(case, "ru").replace("ошибка", "error")
    with pytest.raises(AssertionError):
        _check(case, "ru", subprocess.CompletedProcess([], 2, "", half + "\n"))
    assert english_words(case) == {"must", "between", "and", "got"}


# --- every UserError is translated or passes an exception's text through --------------------

def _is_call_to(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and (
        getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)


def _caught_names(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> set[str]:
    """Names bound by the ``except ... as NAME`` clauses around ``node``."""
    names = set()
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _passes_exception_text(call: ast.Call, caught: set[str]) -> bool:
    """The message is (or embeds) a caught exception's text, or the text of an exception handed
    in with its own ``translated`` flag: ``UserError(str(exc), translated=getattr(exc, ...))``."""
    message = call.args[0]
    names = {n.id for n in ast.walk(message) if isinstance(n, ast.Name)}
    if names & caught:
        return True
    flag = next((k.value for k in call.keywords if k.arg == "translated"), None)
    return (_is_call_to(message, "str") and _is_call_to(flag, "getattr")
            and ast.unparse(message.args[0]) == ast.unparse(flag.args[0]))


def untranslated_user_errors(roots: list[Path]) -> list[str]:
    """``path:line: message`` of every ``UserError(...)`` that is neither translated nor an
    exception's text; a translated one whose msgid a catalog does not translate is listed too."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            for call in (n for n in ast.walk(tree) if _is_call_to(n, "UserError") and n.args):
                where = f"{path.relative_to(root.parent)}:{call.lineno}: {ast.unparse(call.args[0])[:80]}"
                translated = any(k.arg == "translated" and isinstance(k.value, ast.Constant)
                                 and k.value.value is True for k in call.keywords)
                gettexts = [n for n in ast.walk(call.args[0]) if _is_call_to(n, "_")]
                if translated and gettexts:
                    found += [f"{where} (no {lang} translation)" for n in gettexts for lang in TRANSLATED
                              if isinstance(n.args[0], ast.Constant)
                              and catalog(lang).gettext(n.args[0].value) == n.args[0].value]
                elif not _passes_exception_text(call, _caught_names(call, parents)):
                    found.append(where)
    return found


def test_every_user_error_is_translated_or_an_exceptions_own_text():
    assert untranslated_user_errors([ROOT / "device", ROOT / "sim", ROOT / "central"]) == []


def test_the_scan_catches_an_english_only_error(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "cli.py").write_text(
        "from device.cli.main import UserError\nfrom device.i18n import _\n"
        "def f(n, exc):\n"
        "    raise UserError(f'--n must be at least 1 (got {n})')\n"          # English only
        "def g():\n"
        "    raise UserError('a message', translated=True)\n"                  # says so, is not
        "def h():\n"
        "    raise UserError(_('a msgid no catalog has'), translated=True)\n"  # not in the catalogs
        "def k(path):\n"
        "    try:\n        open(path)\n"
        "    except OSError as exc:\n        raise UserError(f'{path}: {exc}') from None\n"  # fine
        "def m(exc):\n"
        "    raise UserError(str(exc), translated=getattr(exc, 'translated', False))\n",    # fine
        encoding="utf-8")
    found = untranslated_user_errors([pkg])
    assert [f.split(":")[1] for f in found] == ["4", "6", "8", "8", "8"], found
