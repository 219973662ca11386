# ballotbox — two commands set up everything on a fresh machine:
#   make demo   a simulated polling-station day on a bundled election
#   make test   the linter (ruff), then the type checker (mypy) beside the whole test suite
# Both install first (Python venv + dependencies, the Debian packages in DEB_PACKAGES).

PYTHON ?= python3
# Bytecode is written where Python would write it by default (see install, below).
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-libs
DEMO_OUT ?= out/demo
# The simulated staff's PINs are not secret (sim/unit/access.py, SIMULATION_PINS): the demo's export
# asks the simulated election manager's, like a unit asks its election manager's.
SIM_MANAGER_PIN := 135790

# Message catalogs (gettext, managed with Babel): the .po files are committed; `make messages`
# extracts every marked string (Python sources + the event catalog's operator messages, see
# babel.cfg) into the template and merges it into each language; install compiles the .mo files.
LOCALES := device/locales
POT := $(LOCALES)/ballotbox.pot
TRANSLATED := km ky ru
MO_FILES := $(foreach l,$(TRANSLATED),$(LOCALES)/$(l)/LC_MESSAGES/ballotbox.mo)

.PHONY: install demo test test-slow test-durations bench diagram mutate messages clean console

install: $(STAMP) $(SYSTEM_STAMP) $(MO_FILES)

# The installer is uv (a PyPI package, put in the venv by pip) when it can be had: it fetches and
# links the ~120 packages in parallel (about 20 s from a fresh clone, against 45 s for pip). It
# takes them from PyPI, as pip does here; uv does not read pip.conf (set UV_INDEX_URL or uv.toml
# for another index). If uv cannot be installed or its install fails, pip does the same install.
# Either way the venv has an up-to-date pip. Python compiles a module to bytecode the first time a
# process imports it and keeps it (__pycache__) for the next, unless told not to
# (PYTHONDONTWRITEBYTECODE, set on some machines, this one included): then every process compiled
# numpy, Textual, OpenCV's wrappers... again on every start. So make's recipes run without it
# (`unexport` below): each module is compiled once, by the first process that needs it. Not all
# of them at install (`--compile-bytecode`, ~17 CPU-s, 10 s here): the tests and the demo import
# ~2,700 of the venv's ~7,100 modules (6 CPU-s). The command line's own start is compiled here
# (`ballotbox --help`, which also checks that it starts). pytest's plugins (Hypothesis, anyio,
# syrupy, xdist...) are kept assert-rewritten in the same way: `pytest --version` writes them once
# (each pytest process and xdist worker rewrote about 130 plugin modules again: ~1 CPU-s each).
# The venv is made without pip (ensurepip took 3 s): the pip of $(PYTHON) puts uv in it
# (`pip --python`, pip 22.3 and later), and uv installs pip with the rest. Where that pip is older
# or missing, the venv gets its own pip first, as before.
PIP := $(PY) -m pip -q --disable-pip-version-check
UV := $(VENV)/bin/uv
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	@if { test -x $(UV) || $(PYTHON) -m pip -q --disable-pip-version-check --python $(PY) install uv >/dev/null 2>&1 \
		|| { $(PY) -m ensurepip >/dev/null 2>&1; $(PIP) install uv >/dev/null 2>&1; }; } && \
		$(UV) pip install -q --python $(PY) --upgrade-package pip pip -e ".[dev,sim,central]"; then \
		echo "installed with uv"; \
	else \
		echo "installing with pip"; \
		$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null; \
		$(PIP) install --upgrade pip && $(PIP) install -e ".[dev,sim,central]"; \
	fi
	@$(PY) -m pytest --version >/dev/null
	@$(VENV)/bin/ballotbox --help >/dev/null
	@touch $(STAMP)

# Debian packages: the zbar library (pyzbar), fonts for ballots and slips (DejaVu; Noto for
# Khmer and Kyrgyz Cyrillic), Chromium for the browser tests of the results page (Playwright
# drives Debian's Chromium; `playwright install` is never run), PostgreSQL for the central
# tally's store tests (the suite starts its own server in a temporary folder).
DEB_PACKAGES := libzbar0 fonts-dejavu-core fonts-noto-core chromium postgresql
$(SYSTEM_STAMP):
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "ballotbox needs these Debian packages: run 'sudo apt-get install" $$missing"', then make again"; \
		exit 1; \
	fi
	@mkdir -p $(VENV) && touch $(SYSTEM_STAMP)

$(LOCALES)/%/LC_MESSAGES/ballotbox.mo: $(LOCALES)/%/LC_MESSAGES/ballotbox.po $(STAMP)
	$(VENV)/bin/pybabel -q compile -D ballotbox -d $(LOCALES) -l $*

messages: $(STAMP)
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k N_ --sort-by-file --no-wrap \
		--project=ballotbox --copyright-holder="ballotbox authors" -o $(POT) .
	@for l in $(TRANSLATED); do \
		test -f $(LOCALES)/$$l/LC_MESSAGES/ballotbox.po || \
			$(VENV)/bin/pybabel -q init -D ballotbox -i $(POT) -d $(LOCALES) -l $$l --no-wrap; \
	done
	$(VENV)/bin/pybabel -q update -D ballotbox -i $(POT) -d $(LOCALES) --no-wrap --no-fuzzy-matching \
		--ignore-obsolete --ignore-pot-creation-date
	@$(PY) -m device.i18n_check

demo: install
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	$(VENV)/bin/ballotbox sim station --election cambodia-2022 --station teuk-laak-1-1 \
		--voters 300 --seed 2022 --fidelity full --out $(DEMO_OUT) --store $(DEMO_OUT)/unit.db
	@echo; echo "== the auditor's view: export the unit, verify the chain and signatures, replay =="
	@echo "(the export is the election manager's: the simulated manager's PIN, $(SIM_MANAGER_PIN), on stdin)"
	echo $(SIM_MANAGER_PIN) | $(VENV)/bin/ballotbox device export --store $(DEMO_OUT)/unit.db --out $(DEMO_OUT)/export --pin-stdin
	$(VENV)/bin/ballotbox audit verify $(DEMO_OUT)/export
	$(VENV)/bin/ballotbox audit replay $(DEMO_OUT)/export

# The unit with its operator console, on simulated peripherals (twins on ptys); README "Operators".
console: install
	$(VENV)/bin/ballotbox device run --sim --state out/console

# pytest on four workers for two cores, whole files to each (a module's fixture, a national run, a
# PostgreSQL server, a browser, is made once), the longest files first in the order
# tests/conftest.py (LONGEST_FIRST) collects them, so the workers end together. Four, not two:
# many tests wait (twins answering over ptys at a device's pace, CLI subprocesses, Chromium,
# PostgreSQL), and two workers left a core idle while they waited. Measured on a quiet machine
# from one fresh clone: pytest 3 min 38 s with 2 workers, 2 min 57 s with 4, 3 min 16 s with 6.
PYTEST_SCHEDULE := -n 4 --dist loadfile --no-loadscope-reorder

# ruff first (its rules: [tool.ruff] in pyproject.toml), so a lint error fails in a second; mypy
# ([tool.mypy]) beside pytest: it is one process, and run alone it left one of the two cores idle
# for its ~10 s. Its report is printed after the tests', and either failing fails `make test`.
# The layer rules are a test (tests/test_layers.py).
# The project's modules are compiled once before the tests (in parallel, -j 0), not by the four
# workers at once as each imports them; the hundreds of `ballotbox` subprocesses the tests start
# then read them. The .pyc files are in .gitignore.
# The test modules' rewritten asserts are cached once too (tests/assert_cache.py): the four
# workers start together, and each would rewrite the ~130 modules no other had written yet.
# python-escpos parses its printer database (YAML) at every import, ~0.15 CPU-s, unless told where
# to keep a pickle of it (it then makes a temporary folder per process that the pickle never
# reaches): the tests' processes share one in the venv, written here before any of them starts.
ESCPOS_CACHE := ESCPOS_CAPABILITIES_PICKLE_DIR=$(abspath $(VENV))/escpos
COMPILE_SOURCES := $(PY) -m compileall -q -j 0 device hardware sim central tests >/dev/null && \
	$(PY) tests/assert_cache.py && mkdir -p $(VENV)/escpos && $(ESCPOS_CACHE) $(PY) -c "import escpos.capabilities"

test: install
	$(VENV)/bin/ruff check .
	@$(COMPILE_SOURCES)
	@echo "mypy (beside pytest; its report follows the tests')"
	@$(VENV)/bin/mypy > $(VENV)/mypy.out 2>&1 & types=$$!; \
	$(ESCPOS_CACHE) $(PY) -m pytest -q $(PYTEST_SCHEDULE) -p no:cacheprovider; tests=$$?; \
	wait $$types; typed=$$?; echo "== mypy"; cat $(VENV)/mypy.out; \
	test $$tests = 0 && test $$typed = 0

test-slow: install
	@$(COMPILE_SOURCES)
	$(ESCPOS_CACHE) $(PY) -m pytest -q $(PYTEST_SCHEDULE) -p no:cacheprovider --runslow

# `make test`'s tests with the 30 slowest of the run listed (LONGEST_FIRST in tests/conftest.py).
test-durations: install
	@$(COMPILE_SOURCES)
	$(ESCPOS_CACHE) $(PY) -m pytest -q $(PYTEST_SCHEDULE) -p no:cacheprovider --durations=30

bench: install
	$(PY) -m sim.bench

# Mutation testing of the critical modules ([tool.mutmut] in pyproject.toml); prints the kill rate.
mutate: install
	@rm -rf mutants
	$(VENV)/bin/mutmut run --max-children 2 || true
	$(VENV)/bin/mutmut export-cicd-stats >/dev/null
	@$(PY) -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	k = s['killed'] + s['timeout']; t = k + s['survived'] + s['no_tests']; \
	print(f'mutants: {t}, killed: {k} ({100 * k / max(t, 1):.1f} %), survived: {s[\"survived\"]}, no tests: {s[\"no_tests\"]}')"
	@echo "survivors: $(VENV)/bin/mutmut results; one of them: $(VENV)/bin/mutmut show NAME"

diagram: install
	$(VENV)/bin/ballotbox device diagram

clean:
	rm -rf out .pytest_cache .hypothesis
