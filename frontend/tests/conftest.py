"""Frontend test helpers: a short real video file, served over HTTP."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from testing.server import serving, serving_folder

# 60 s of ffmpeg's test picture, small and quick to encode.
FFMPEG_TEST_PICTURE = [
    *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10", "-t", "60"),
    *("-c:v", "libvpx", "-b:v", "50k", "-deadline", "realtime", "-cpu-used", "8"),
]


@pytest.fixture(scope="session")
def media_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with a 60 s WebM test picture at /a.webm and /b.webm, and an 8 s
    clip of it at /short.webm, and a 60 s tone at /audio.webm (made with ffmpeg)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    folder = tmp_path_factory.mktemp("media")
    source = folder / "a.webm"
    subprocess.run(
        [*FFMPEG_TEST_PICTURE, str(source)],
        check=True,
        timeout=180,  # 60 s of video: seconds on a quiet machine, not under parallel tests
    )
    shutil.copy(source, folder / "b.webm")
    # An 8 s clip, for media that stops by itself.
    clip = ["ffmpeg", "-v", "error", "-i", str(source), "-t", "8", "-c", "copy", str(folder / "short.webm")]
    subprocess.run(clip, check=True, timeout=180)
    # 60 s of a tone, for the audio-only stream.
    tone = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=60", "-c:a", "libopus"]
    subprocess.run([*tone, "-b:a", "24k", str(folder / "audio.webm")], check=True, timeout=180)
    with serving_folder(folder) as url:
        yield url


@pytest.fixture
def frontend_url(settings) -> Iterator[str]:
    """The frontend served from this process, so a test can set what the tracker
    answers (monkeypatch tracker_api): the site's ASGI application, lean path and
    static files included (testing/server.py). No database: the public pages use none."""
    settings.SERVE_STATIC = True
    with serving() as url:
        yield url
