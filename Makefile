# Siyu: `make run` serves the demo shop; `make test` runs lint, the layering check and the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint messages bench-checkout bench-customers bench-commissions clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Translations are compiled with Babel (a Python dependency), not GNU gettext's msgfmt: nothing to install.
messages: $(VENV)/.installed
	$(BIN)/python manage.py compile_translations >/dev/null

run: $(VENV)/.installed messages
	$(BIN)/siyu up --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy siyu
	$(BIN)/python manage.py makemigrations --check --dry-run >/dev/null
	DJANGO_SETTINGS_MODULE=config.settings.production ALLOWED_HOSTS=shop.example.com SIYU_ALLOW_LOG_SMS=1 \
	  SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))') \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

test: $(VENV)/.installed-test messages lint
	@echo "== tests on SQLite"
	SIYU_TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$$SIYU_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$SIYU_TEST_DATABASE_URL)"; \
	  $(BIN)/pytest; \
	else echo "SIYU_TEST_DATABASE_URL is not set: PostgreSQL run skipped"; fi

clean:
	rm -rf $(VENV) data media staticfiles

# Full-size benchmarks (each makes and drops its own PostgreSQL database; BENCH_ADMIN_DATABASE_URL says
# where, default postgresql://postgres@127.0.0.1:5432/postgres). `make test` runs them at a smoke size
# (tests/bench), so a change that breaks one fails there; sizes: see each script's docstring.
bench-checkout: $(VENV)/.installed
	$(BIN)/python bench/checkout.py

bench-customers: $(VENV)/.installed
	$(BIN)/python bench/customers.py

bench-commissions: $(VENV)/.installed
	$(BIN)/python bench/commissions.py
