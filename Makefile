# Two commands set everything up on a fresh machine with Python 3.11+:
#   make serve   run the whole site for development on http://127.0.0.1:8000
#   make test    run every test
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?= 127.0.0.1:8000
REDIS_URL ?= redis://127.0.0.1:6390/0

export REDIS_URL
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: serve test test-unit lint lock system-packages bench bench-packages vendor soak

# Every dependency, transitive ones included, at the version and with the
# hashes of the locks: pip refuses any file whose hash is not in them.
# pip installs uv, uv the rest (in 18 s here against pip's 26), compiling every
# module's bytecode as pip does, so no process compiles its imports again.
$(VENV)/installed: requirements.txt requirements-dev.txt requirements-agent.txt requirements-bootstrap.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-bootstrap.txt
	$(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes --compile-bytecode -r requirements-dev.txt
	touch $@

# The locks (requirements*.txt) from the direct pins people edit
# (requirements*.in): add or change a line in an .in file, then `make lock`.
# Pins already locked stay unless an .in asks otherwise; LOCK_ARGS=--upgrade
# moves every transitive dependency to its newest release. Resolved for
# Python 3.11 and later on any platform, hashes of every file of each release.
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)
lock: $(VENV)/installed
	$(LOCK) requirements-bootstrap.in -o requirements-bootstrap.txt
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-agent.in -o requirements-agent.txt
	$(LOCK) requirements-dev.in -o requirements-dev.txt

# $(call npm-pack,package,version,sha512): the package's tarball from the npm
# registry (with the machine's npm, installed with apt when missing and run
# as root) at var/npm/<package>-<version>.tgz, checked against its checksum.
define npm-pack
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } || \
	  { echo "npm is missing: apt-get install npm (needed once, for $(1))"; exit 1; }
	mkdir -p var/npm
	cd var/npm && npm pack --silent $(1)@$(2) >/dev/null
	echo "$(3)  var/npm/$(1)-$(2).tgz" | sha512sum --check --quiet
endef

# hls.js for browsers without native HLS, served from our own static files
# (never a CDN), pinned by version and checksum.
HLS_VERSION := 1.7.4
HLS_SHA512 := dc697119d3ef4f6607bd060eb7ec8ecd3fc3122a2bfea255348ca51c0efb9207a805375042a8bbd06c1e7cd11498741e346ca30bc53adbe6ebbaa5bf4e99beb6
VENDOR := frontend/static/frontend/vendor

# The stamp names the version, so changing HLS_VERSION installs it again.
$(VENDOR)/.hls.js-$(HLS_VERSION):
	$(call npm-pack,hls.js,$(HLS_VERSION),$(HLS_SHA512))
	mkdir -p $(VENDOR) var/npm/hls.js
	tar -xzf var/npm/hls.js-$(HLS_VERSION).tgz -C var/npm/hls.js package/dist/hls.min.js package/LICENSE
	cp var/npm/hls.js/package/LICENSE $(VENDOR)/hls.LICENSE
	# Without its source map, which we don't ship (collectstatic would look for it).
	sed '/^\/\/# sourceMappingURL=/d' var/npm/hls.js/package/dist/hls.min.js > $(VENDOR)/hls.min.js
	touch $@

# axe-core, the accessibility checker the browser tests run on every public
# page: a test tool, so it stays in var/ and is never served.
AXE_VERSION := 4.14.1
AXE_SHA512 := 1477dafa598d8d065f273d6af302aa203c02e83131707b7fa648cd41bd3d6b734f8c22a0dab86ee6a6f64b8afbe804b214d36db85a2826965edfb3a0b9d546b5
AXE := var/axe-core-$(AXE_VERSION)/axe.min.js

$(AXE):
	$(call npm-pack,axe-core,$(AXE_VERSION),$(AXE_SHA512))
	mkdir -p var/npm/axe-core $(dir $(AXE))
	tar -xzf var/npm/axe-core-$(AXE_VERSION).tgz -C var/npm/axe-core package/axe.min.js package/LICENSE
	cp var/npm/axe-core/package/axe.min.js var/npm/axe-core/package/LICENSE $(dir $(AXE))

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
# libnginx-mod-rtmp: the agent's nginx-rtmp test; prometheus: promtool, which checks the metrics.
# iproute2: ip, for the faults across a link (testing/far_host.py).
TEST_PACKAGES := chromium icecast2 ffmpeg nginx-light libnginx-mod-rtmp prometheus iproute2
system-packages:
	@missing=""; \
	 for command in chromium icecast2 ffmpeg nginx promtool ip; do command -v $$command >/dev/null || missing="$$missing $$command"; done; \
	 [ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing="$$missing libnginx-mod-rtmp"; \
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
	$(PY) -m mypy

# The tests in PYTEST_WORKERS processes (pytest-xdist: each its own Redis,
# database, daphne ports and browser; an idle worker takes tests queued for a
# busy one), most of their time being spent waiting on servers and browsers;
# then the tests that measure seconds (marked `timed`, the fault suite among
# them) with nothing else running. Prints how long it all took, lint included.
PYTEST_WORKERS ?= 4
# The timed tests mostly wait (a Redis frozen for 8 s, a lease running out), so
# three at once leave the cores mostly idle and their seconds honest (four
# saved ~15 s, but one run in five put a 3-second bound 0.16 s over; six
# stretched each test up to 1.7x).
TIMED_WORKERS ?= 3
test: $(VENV)/installed vendor $(AXE) system-packages
	@started=$$(date +%s); status=0; \
	 $(MAKE) --no-print-directory lint || status=$$?; \
	 if [ $$status = 0 ]; then \
	   $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal -m "not timed" || status=$$?; \
	   $(PY) -m pytest -n $(TIMED_WORKERS) --dist worksteal -m timed || status=$$?; \
	 fi; \
	 echo "make test: $$(( $$(date +%s) - started )) s ($(PYTEST_WORKERS) workers, then the timed tests in $(TIMED_WORKERS))"; \
	 exit $$status

# The tests that need no Redis, database, server or browser (markers set by
# conftest.py from the fixtures each test uses): no redis-server is started.
test-unit: $(VENV)/installed
	$(PY) -m pytest -m unit

# wrk (Debian's, a C client) loads the heartbeats and the one-connection pages
# besides the Python load generator, whose own costs show in its figures.
bench-packages:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; } || \
	  echo "wrk is missing (apt-get install wrk): the bench runs without its rows"

bench: $(VENV)/installed bench-packages
	$(PY) -m bench $(BENCH_ARGS)

# An hour of churn, flapping encoders and two Redis restarts against real
# processes (not part of `make test`); figures go to docs/performance.md.
# SOAK_ARGS="--minutes 10" for a shorter run.
soak: $(VENV)/installed
	$(PY) -m tracker.tests.faults.soak $(SOAK_ARGS)
