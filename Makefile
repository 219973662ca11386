# ballotbox — two commands set up everything on a fresh machine:
#   make demo   a simulated polling-station day on a bundled election
#   make test   the whole test suite
# Both install first (Python venv + dependencies, Debian's libzbar0 and fonts-dejavu-core).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-libs
DEMO_OUT ?= out/demo

.PHONY: install demo test test-slow bench diagram clean

install: $(STAMP) $(SYSTEM_STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

# System libraries: the zbar shared library (pyzbar) and the DejaVu fonts (ballot labels).
$(SYSTEM_STAMP):
	@if ldconfig -p 2>/dev/null | grep -q 'libzbar\.so\.0' && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages libzbar0 fonts-dejavu-core"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzbar0 fonts-dejavu-core >/dev/null; \
	else \
		echo "ballotbox needs the zbar library and DejaVu fonts: run 'sudo apt-get install libzbar0 fonts-dejavu-core', then make again"; \
		exit 1; \
	fi
	@mkdir -p $(VENV) && touch $(SYSTEM_STAMP)

demo: install
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	$(VENV)/bin/ballotbox sim station --election cambodia-2022 --station teuk-laak-1-1 \
		--voters 300 --seed 2022 --fidelity full --out $(DEMO_OUT) --store $(DEMO_OUT)/unit.db
	@echo; echo "== the auditor's view: export the unit, verify the chain and signatures, replay =="
	$(VENV)/bin/ballotbox device export --store $(DEMO_OUT)/unit.db --out $(DEMO_OUT)/export
	$(VENV)/bin/ballotbox audit verify $(DEMO_OUT)/export
	$(VENV)/bin/ballotbox audit replay $(DEMO_OUT)/export

test: install
	$(PY) -m pytest -n 2 -p no:cacheprovider

test-slow: install
	$(PY) -m pytest -n 2 -p no:cacheprovider --runslow

bench: install
	$(PY) -m sim.bench

diagram: install
	$(VENV)/bin/ballotbox device diagram

clean:
	rm -rf out .pytest_cache .hypothesis
