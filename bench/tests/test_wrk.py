"""bench.wrk: wrk's report read as the bench's rows are."""

from __future__ import annotations

import pytest

from bench.wrk import HEARTBEATS_LUA, parse

REPORT = """Running 1s test @ http://127.0.0.1:8765/healthz
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   605.15us  840.79us   7.36ms   90.27%
    Req/Sec     1.91k   229.96     2.15k    80.00%
  Latency Distribution
     50%  346.00us
     75%  473.00us
     90%    1.40ms
     99%    4.21ms
  1902 requests in 1.00s, 0.94MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 17
Requests/sec:   1899.91
Transfer/sec:      0.94MB
"""


def test_the_rate_percentiles_and_every_failure_are_read():
    row = parse(REPORT)

    assert row["rate"] == 1899.91
    assert row["p50"] == pytest.approx(346e-6)
    assert row["p99"] == pytest.approx(4.21e-3)
    assert row["bad"] == 17 + 3


def test_a_clean_run_has_no_failures():
    clean = "\n".join(line for line in REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line)

    assert parse(clean)["bad"] == 0


def test_the_heartbeat_script_takes_the_encoders_table():
    script = HEARTBEATS_LUA % '{"ingest-0","enc-0","token"}'

    assert 'local encoders = {{"ingest-0","enc-0","token"}}' in script
    assert "(n % #encoders)" in script and '"clients":%d' in script
