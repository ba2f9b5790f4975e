# Two commands set everything up on a fresh machine with Python 3.11+:
#   make serve   run the whole site for development on http://127.0.0.1:8000
#   make test    run every test
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?= 127.0.0.1:8000
REDIS_URL ?= redis://127.0.0.1:6390/0

export REDIS_URL
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: serve test lint system-packages bench

$(VENV)/installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

serve: $(VENV)/installed
	$(PY) manage.py init_config
	$(PY) manage.py check_config >/dev/null
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py first_admin
	@host="$$(echo '$(ARGS)' | sed 's/:[0-9]*$$//; s/^\[//; s/\]$$//')"; \
	 port="$$(echo '$(ARGS)' | sed 's/.*://')"; \
	 echo "serving on http://$(ARGS)/"; \
	 DEBUG=$${DEBUG:-1} WEB_HOST="$$host" WEB_PORT="$$port" exec honcho start

# Test-only system packages come from Debian, never from a browser download:
# Chromium for what a person sees, Icecast and ffmpeg for the encoder agent's
# test against a real streaming server. Installed when run as root.
TEST_PACKAGES := chromium icecast2 ffmpeg
system-packages:
	@missing=""; \
	 for command in chromium icecast2 ffmpeg; do command -v $$command >/dev/null || missing="$$missing $$command"; done; \
	 if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing from Debian"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_PACKAGES) >/dev/null; \
	  else \
	    echo "missing$$missing: tests that need them are skipped (or fail under CI=true for chromium)"; \
	  fi; \
	 fi

lint: $(VENV)/installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(VENV)/installed system-packages lint
	$(PY) -m pytest

bench: $(VENV)/installed
	$(PY) -m bench $(BENCH_ARGS)
