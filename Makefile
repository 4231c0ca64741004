# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app
# The demo's CRM sandboxes (`flask sandbox --all --port 5101`, see Procfile) are the only hosts besides
# the CRMs' own that Shoal may call here (README, "Production": empty there).
export CRM_HOST_ALLOWLIST ?= 127.0.0.1:5101,127.0.0.1:5102,127.0.0.1:5103,127.0.0.1:5104,127.0.0.1:5105

.PHONY: run test venv migrate demo clean

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,test]'
	touch $(BIN)/activate

venv: $(BIN)/activate

migrate: venv
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask seed-demo

run: demo
	@echo "Shoal: http://127.0.0.1:$(PORT)  (Ctrl-C stops web, worker and CRM sandboxes)"
	SHOAL_PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
