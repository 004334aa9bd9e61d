# Siyu: `make run` serves the demo shop; `make test` runs lint, the layering check and the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint messages bench-checkout bench-customers bench-commissions bench-load bench-flash-sale \
  bench-clv bench-analytics bench-campaign clean

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

# The tests that lean on the cache, sessions or task queue (sign-in codes and rate limits, sessions, trace
# scan limits, the shop cache, tasks and the sandbox's notifications), run a third time on Redis when
# SIYU_TEST_REDIS_URL is set (on PostgreSQL too when SIYU_TEST_DATABASE_URL is); tests/scale also starts
# two web servers and two workers on them.
REDIS_TESTS := tests/scale tests/domain/test_accounts.py tests/domain/test_sms.py tests/console/test_sessions.py \
  tests/console/test_signin.py tests/console/test_auth.py tests/distribution/test_trace.py \
  tests/distribution/test_trace_page.py tests/distribution/test_trace_concurrency.py tests/storefront/test_pages.py \
  tests/api/test_queries.py tests/api/test_storefront.py tests/api/test_orders_storefront.py tests/payments \
  tests/customers/test_import_cli.py tests/customers/test_reminders.py tests/orders/test_auto_confirm.py \
  tests/referrals/test_rewards.py

test: $(VENV)/.installed-test messages lint
	@echo "== tests on SQLite"
	SIYU_TEST_DATABASE_URL= SIYU_TEST_REDIS_URL= $(BIN)/pytest
	@if [ -n "$$SIYU_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$SIYU_TEST_DATABASE_URL)"; \
	  SIYU_TEST_REDIS_URL= $(BIN)/pytest; \
	else echo "SIYU_TEST_DATABASE_URL is not set: PostgreSQL run skipped"; fi
	@if [ -n "$$SIYU_TEST_REDIS_URL" ]; then \
	  echo "== worker-dependent tests again with Redis as cache, sessions and queue ($$SIYU_TEST_REDIS_URL)"; \
	  $(BIN)/pytest $(REDIS_TESTS); \
	else echo "SIYU_TEST_REDIS_URL is not set: Redis run skipped"; fi

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

bench-load: $(VENV)/.installed-test
	$(BIN)/python bench/load_runner.py

bench-flash-sale: $(VENV)/.installed
	$(BIN)/python bench/flash_sale.py

bench-clv: $(VENV)/.installed-test
	$(BIN)/python bench/clv.py

bench-analytics: $(VENV)/.installed
	$(BIN)/python bench/analytics.py

bench-campaign: $(VENV)/.installed
	$(BIN)/python bench/campaign.py
