# Two commands set everything up on a fresh machine with Python 3.11+:
#   make serve   run the whole site for development on http://127.0.0.1:8000
#   make test    run every test
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?= 127.0.0.1:8000
REDIS_URL ?= redis://127.0.0.1:6390/0

export REDIS_URL
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: serve test lint system-packages bench vendor soak

$(VENV)/installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# hls.js for browsers without native HLS, served from our own static files
# (never a CDN): fetched once from the npm registry with the machine's npm,
# pinned by version and checksum.
HLS_VERSION := 1.7.4
HLS_SHA512 := dc697119d3ef4f6607bd060eb7ec8ecd3fc3122a2bfea255348ca51c0efb9207a805375042a8bbd06c1e7cd11498741e346ca30bc53adbe6ebbaa5bf4e99beb6
VENDOR := frontend/static/frontend/vendor

# The stamp names the version, so changing HLS_VERSION installs it again.
$(VENDOR)/.hls.js-$(HLS_VERSION):
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } || \
	  { echo "npm is missing: apt-get install npm (needed once, for hls.js)"; exit 1; }
	mkdir -p var/npm $(VENDOR)
	cd var/npm && npm pack --silent hls.js@$(HLS_VERSION) >/dev/null
	echo "$(HLS_SHA512)  var/npm/hls.js-$(HLS_VERSION).tgz" | sha512sum --check --quiet
	tar -xzf var/npm/hls.js-$(HLS_VERSION).tgz -C var/npm package/dist/hls.min.js package/LICENSE
	cp var/npm/package/LICENSE $(VENDOR)/hls.LICENSE
	# Without its source map, which we don't ship (collectstatic would look for it).
	sed '/^\/\/# sourceMappingURL=/d' var/npm/package/dist/hls.min.js > $(VENDOR)/hls.min.js
	touch $@

vendor: $(VENDOR)/.hls.js-$(HLS_VERSION)

serve: $(VENV)/installed vendor
	$(PY) manage.py init_config
	DEBUG=$${DEBUG:-1} $(PY) manage.py check_config >/dev/null
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py first_admin
	@host="$$(echo '$(ARGS)' | sed 's/:[0-9]*$$//; s/^\[//; s/\]$$//')"; \
	 port="$$(echo '$(ARGS)' | sed 's/.*://')"; \
	 echo "serving on http://$(ARGS)/"; \
	 DEBUG=$${DEBUG:-1} WEB_HOST="$$host" WEB_PORT="$$port" exec honcho start

# Test-only system packages come from Debian, never from a browser download:
# Chromium for what a person sees, Icecast and ffmpeg for the encoder agent's
# test against a real streaming server, nginx to check ops/'s site config.
# Installed when run as root.
TEST_PACKAGES := chromium icecast2 ffmpeg nginx-light
system-packages:
	@missing=""; \
	 for command in chromium icecast2 ffmpeg nginx; do command -v $$command >/dev/null || missing="$$missing $$command"; done; \
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
	$(PY) manage.py makemigrations --check --dry-run

test: $(VENV)/installed vendor system-packages lint
	$(PY) -m pytest

bench: $(VENV)/installed
	$(PY) -m bench $(BENCH_ARGS)

# An hour of churn, flapping encoders and two Redis restarts against real
# processes (not part of `make test`); figures go to docs/performance.md.
# SOAK_ARGS="--minutes 10" for a shorter run.
soak: $(VENV)/installed
	$(PY) -m tracker.tests.faults.soak $(SOAK_ARGS)
