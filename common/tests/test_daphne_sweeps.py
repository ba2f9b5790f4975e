"""daphne's walks over every connection, taken every Nth round (common/daphne_sweeps.py)."""

from __future__ import annotations

import pytest

from common import daphne_sweeps


def test_daphne_still_sets_its_next_rounds_as_assumed():
    # Fails on a daphne release that renamed the walks or changed their pace:
    # the sparse rounds would then be left off (see probe) and idle sockets cost more.
    assert daphne_sweeps.probe() == []


@pytest.mark.parametrize("every", [1, 5])
def test_only_every_nth_round_walks_and_every_round_sets_the_next(every, monkeypatch):
    class Server:
        walks = 0

        def walk(self) -> None:
            self.walks += 1  # daphne's walk, which sets its own next round

        application_checker = daphne_sweeps.sparse(walk, "application_checker", every)

    scheduled = []
    monkeypatch.setattr(daphne_sweeps, "call_later", lambda seconds, then: scheduled.append((seconds, then)))
    server = Server()

    for _ in range(10):
        server.application_checker()

    assert server.walks == 10 // every
    assert len(scheduled) == 10 - 10 // every
    assert all(seconds == 1 and then == server.application_checker for seconds, then in scheduled)


def test_a_site_process_walks_sparsely_and_says_so(site, tmp_path):
    log = next(tmp_path.glob("*-0.log")).read_text()  # daphne's (the site fixture logs there)
    assert "daphne's connection sweeps: every 5 s and 10 s (DAPHNE_SWEEP_EVERY=5)" in log
