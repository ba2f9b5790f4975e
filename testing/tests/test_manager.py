"""Management commands run for a test's site by one Python per site (testing/manager.py), as manage.py would."""

from __future__ import annotations

from testing.manager import manager
from tracker.ops.tests.test_control_room_browser import write_config


def test_a_command_prints_what_manage_py_prints(site_env):
    code, out, err = manager(site_env).run("shell", "--no-imports", "-c", "print('hello from the site')")

    assert (code, out, err) == (0, "hello from the site\n", "")


def test_a_failing_command_says_why_and_the_next_one_runs(site_env):
    failed = manager(site_env).run("encoder", "add", "--room", "no-such-room", "--name", "cam")
    again = manager(site_env).run("shell", "--no-imports", "-c", "print(2)")

    assert failed[0] == 1 and "CommandError" in failed[2] and "no-such-room" in failed[2]
    assert again == (0, "2\n", "")


def test_each_command_reads_the_rooms_config_again(site_env, tmp_path):
    env = {**site_env, "ROOMS_CONFIG_DIR": str(tmp_path / "rooms")}
    has_annex = "from tracker.config import get_config; print('annex' in get_config().rooms)"
    write_config(tmp_path / "rooms")
    before = manager(env).run("shell", "--no-imports", "-c", has_annex)

    write_config(tmp_path / "rooms", annex={"title": "Annex"})
    after = manager(env).run("shell", "--no-imports", "-c", has_annex)

    assert (before[1], after[1]) == ("False\n", "True\n")


def test_one_manager_serves_a_site_through_every_test_and_phase(site_env):
    """pytest names the current test in os.environ, which a site's environment copies."""
    during_setup = manager({**site_env, "PYTEST_CURRENT_TEST": "test_x.py::test_a (setup)"})
    during_call = manager({**site_env, "PYTEST_CURRENT_TEST": "test_x.py::test_b (call)"})

    assert during_setup is during_call
    seen = during_call.run("shell", "--no-imports", "-c", "import os; print('PYTEST_CURRENT_TEST' in os.environ)")
    assert seen[1] == "False\n"
