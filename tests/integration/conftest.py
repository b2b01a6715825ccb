"""Shared fixtures. A test class sets CONF (an httpd.conf fragment, with
{root} and {port} substituted) and optionally setup_keys(env) to write key
files before start, and ALLOWED_LOG_IDS for expected [warn]/[error] lines.
The `httpd` fixture starts one server per class; after each test its new
error-log lines are checked."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from httpd_env import HttpdEnv  # noqa: E402


@pytest.fixture(scope="class")
def httpd(request):
    env = HttpdEnv()
    cls = request.cls
    if cls is not None and hasattr(cls, "setup_env"):
        cls.setup_env(env)
    env.install(getattr(cls, "CONF", ""))
    env.start()
    env.mark_log()
    yield env
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
