"""Management commands for a test's site, from a Python that set Django up once.

A fresh `manage.py` spends about 0.9 s of CPU starting Django before it adds
a token or a user; tests ran some 130 of them per `make test`, a seventh of
its CPU. A `Manager` is one child process with the site's environment that
runs `call_command` for each request, as `manage.py` would (the rooms config
read again each time, database connections closed after each command), and
answers on a pipe of its own, so whatever a command logs cannot get in the way.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Sites whose manager is kept: a test's site with a config of its own gets one of its own.
KEPT = 2
TIMEOUT = 60  # seconds a command may take (a start-up under load included)

SERVE = """
import contextlib, io, json, os, sys, traceback
import django
django.setup()
from django.core.management import CommandError, call_command
from django.db import connections
from tracker.config import reset_cache
answers = os.fdopen(int(sys.argv[1]), "w")
for line in sys.stdin:
    reset_cache()
    out, err, code = io.StringIO(), io.StringIO(), 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            call_command(*json.loads(line))
    except CommandError as exc:  # what manage.py prints for it, and its exit code
        code = 1
        err.write(f"CommandError: {exc}\\n")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception:
        code = 1
        err.write(traceback.format_exc())
    finally:
        connections.close_all()
    answers.write(json.dumps([code, out.getvalue(), err.getvalue()]) + "\\n")
    answers.flush()
"""


class Manager:
    def __init__(self, env: dict[str, str]) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(write)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            pass_fds=(write,),
        )
        os.close(write)
        self.answers = os.fdopen(read)

    def run(self, *args: str) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of `manage.py *args`."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(args) + "\n")
        self.process.stdin.flush()
        if not select.select([self.answers], [], [], TIMEOUT)[0]:
            raise TimeoutError(f"`manage.py {' '.join(args)}` took over {TIMEOUT} s")
        answer = self.answers.readline()
        if not answer:
            raise RuntimeError(f"the manager for `manage.py {' '.join(args)}` ended ({self.process.wait()})")
        code, out, err = json.loads(answer)
        return code, out, err

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.answers.close()


_managers: OrderedDict[tuple[tuple[str, str], ...], Manager] = OrderedDict()


# Set by pytest for each test and phase: a site's environment copied from
# os.environ would otherwise be a new one, and need a new manager, every time.
PER_TEST = ("PYTEST_CURRENT_TEST",)


def manager(env: dict[str, str]) -> Manager:
    """The manager for a site with this environment (the latest `KEPT` sites' stay)."""
    env = {name: value for name, value in env.items() if name not in PER_TEST}
    key = tuple(sorted(env.items()))
    if key in _managers:
        _managers.move_to_end(key)
        return _managers[key]
    while len(_managers) >= KEPT:
        _managers.popitem(last=False)[1].close()
    _managers[key] = Manager(env)
    return _managers[key]


@atexit.register
def _close_all() -> None:
    while _managers:
        _managers.popitem()[1].close()
