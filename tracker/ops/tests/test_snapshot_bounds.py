"""The operators' snapshot stays under daphne's limit whatever the stores hold."""

import json

from tracker.ops.snapshot import MAX_SNAPSHOT_BYTES, fit

DAPHNE_LIMIT = 1024 * 1024


def test_a_snapshot_too_big_is_cut_and_says_so():
    encoder = {"room": "example", "name": "x" * 64, "streams": [{"url": "\U0001f4a9" * 500}] * 4}
    message = {
        "type": "snapshot",
        "encoders": [{**encoder, "name": f"cam-{n}"} for n in range(3000)],
        "logs": {"example": [{"text": "y" * 500}] * 50},
        "history": {"example/cam-0": [[0, 1, 2]] * 600},
        "setup": [],
    }

    text = fit(message)
    cut = json.loads(text)

    assert len(text.encode()) <= MAX_SNAPSHOT_BYTES < DAPHNE_LIMIT
    assert 0 < len(cut["encoders"]) < 3000
    assert cut["setup"][-1].startswith("too many encoders to show:")
    assert cut["history"] == {} and len(cut["logs"]["example"]) == 5


def test_a_snapshot_within_bounds_is_sent_whole():
    message = {"type": "snapshot", "encoders": [{"name": "cam"}], "logs": {}, "history": {}, "setup": []}

    assert json.loads(fit(message)) == message
