"""The Procfile runs as it is: a plain `honcho start` sets no variables, so each
command must fill in its own defaults (the bug was `daphne -p ''`).

Each command runs through `sh` with an empty environment, as honcho runs it,
with stand-ins for the programs that write down the arguments and the DEBUG
they were given.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"
STAND_IN = '#!/bin/sh\necho "${0##*/} DEBUG=${DEBUG-unset} $*" >> "${0%/*}/calls"\n'


def procfile_commands() -> dict[str, str]:
    lines = (line.partition(":") for line in PROCFILE.read_text().splitlines() if line.strip())
    return {name.strip(): command.strip() for name, _, command in lines}


@pytest.fixture
def stand_ins(tmp_path: Path) -> Path:
    for program in ("daphne", "python", "sleep"):
        (tmp_path / program).write_text(STAND_IN)
        (tmp_path / program).chmod(0o755)
    return tmp_path


def run_bare(command: str, bin_dir: Path) -> list[str]:
    subprocess.run(["/bin/sh", "-c", command], env={"PATH": str(bin_dir)}, check=True, timeout=10)
    return (bin_dir / "calls").read_text().splitlines()


def test_procfile_names_the_processes_of_the_design():
    assert set(procfile_commands()) == {"redis", "web", "worker", "encoder"}


def test_procfile_web_listens_on_the_documented_default_without_any_variable(stand_ins: Path):
    (call,) = run_bare(procfile_commands()["web"], stand_ins)
    assert call == "daphne DEBUG=1 -b 127.0.0.1 -p 8000 project.asgi:application"


def test_procfile_worker_and_encoder_run_in_development_mode_against_that_address(stand_ins: Path):
    commands = procfile_commands()
    run_bare(commands["worker"], stand_ins)
    calls = run_bare(commands["encoder"], stand_ins)
    assert calls[0] == "python DEBUG=1 manage.py worker"
    assert calls[-1].endswith("fake_encoder --room example --interval 5 --tracker http://127.0.0.1:8000")


def test_procfile_variables_set_by_make_serve_win_over_the_defaults(stand_ins: Path):
    command = "WEB_HOST=0.0.0.0 WEB_PORT=8080 DEBUG=0; export WEB_HOST WEB_PORT DEBUG; " + procfile_commands()["web"]
    (call,) = run_bare(command, stand_ins)
    assert call == "daphne DEBUG=0 -b 0.0.0.0 -p 8080 project.asgi:application"
