"""Shared fixtures. A test class sets CONF (an httpd.conf fragment, with
{root} and {port} substituted) and optionally setup_keys(env) to write key
files before start, and ALLOWED_LOG_IDS for expected [warn]/[error] lines.
The `httpd` fixture starts one server per class; after each test its new
error-log lines are checked."""
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from httpd_env import HttpdEnv  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """tmp_path under one directory of this run, removed at its end: pytest
    would otherwise keep its last runs in /tmp/pytest-of-USER."""
    if not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="at-pytest-")
        config._at_basetemp = config.option.basetemp


def pytest_unconfigure(config):
    d = getattr(config, "_at_basetemp", None)
    if d:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="class")
def httpd(request):
    env = HttpdEnv()
    try:
        cls = request.cls
        if cls is not None and hasattr(cls, "setup_env"):
            cls.setup_env(env)
        env.install(getattr(cls, "CONF", ""))
        env.start()
        env.mark_log()
        yield env
    finally:
        # Also when setup or start fails: no server or ServerRoot left.
        env.cleanup()


@pytest.fixture(autouse=True)
def _check_error_log(request):
    yield
    if "httpd" not in request.fixturenames:
        return
    env = request.getfixturevalue("httpd")
    allowed = getattr(request.cls, "ALLOWED_LOG_IDS", ())
    problems = env.log_problems(env.new_log(), allowed)
    assert not problems, "unexpected error-log lines:\n" + "\n".join(problems)
