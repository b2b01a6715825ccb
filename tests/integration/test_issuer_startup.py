"""The registry at startup: httpd creates and migrates it as root and gives
the file and its directory to the server's User; an unusable registry stops
startup with a clear message instead of failing later per request (the
configtest checks, AT01020, run at start too and name the fix on the
terminal; test_config_registry.py has them in detail)."""
import os
import pwd

import pytest

from httpd_env import RUN_USER, HttpdEnv
from issuer_helpers import issuer_conf, make_key


@pytest.fixture
def env():
    e = HttpdEnv()
    yield e
    e.cleanup()


def conf(env, registry):
    make_key(env, "ES256", "es256.pem")
    return issuer_conf(["ES256 keys/es256.pem"]).replace(
        "{root}/var/registry.db", registry)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand over")
def test_issuer_start_001_created_and_given_to_user(env):
    regdir = env.path("var/reg")
    os.makedirs(regdir)          # root-owned, as an operator would make it
    env.install(conf(env, regdir + "/registry.db"))
    env.start()
    user = pwd.getpwnam(RUN_USER)
    for p in (regdir, regdir + "/registry.db"):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (user.pw_uid, user.pw_gid), p
    # The children (running as User) can write it: issue nothing yet, but
    # the metadata reads the scopes through the registry.
    r = env.get("/.well-known/oauth-authorization-server")
    assert r.status_code == 200
    assert "offline_access" in r.json()["scopes_supported"]
    assert not env.log_problems(env.read_log())


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand over")
def test_issuer_start_001_02_shared_directory_not_taken(env):
    """A shared directory the User cannot write in is not taken over; it
    used to give a server that answered 500 to the first token request,
    and now stops the start with the fix."""
    shared = env.path("var/shared")
    os.makedirs(shared)
    env.write_file("var/shared/other.conf", "someone else's file\n")
    env.install(conf(env, shared + "/registry.db"))
    with pytest.raises(RuntimeError) as failed:
        env.start()
    assert "AT01020" in str(failed.value)
    assert "directory of its own" in str(failed.value)
    assert os.stat(shared).st_uid == 0
    assert not os.path.exists(shared + "/registry.db")


@pytest.mark.parametrize("content", [
    b"this is not an SQLite database, just some text\n" * 20,
    b"SQLite format 3\x00" + b"\xff" * 4000,
])
def test_issuer_start_002_bad_registry_stops_startup(env, content):
    env.write_file("var/registry.db", content)
    env.install(conf(env, env.path("var/registry.db")))
    with pytest.raises(RuntimeError) as failed:
        env.start()
    assert "AT01020" in str(failed.value)
    assert "not a usable SQLite database" in str(failed.value)
    # Nothing was written over the operator's file.
    with open(env.path("var/registry.db"), "rb") as f:
        assert f.read() == content


def test_issuer_start_003_unwritable_place_stops_startup(env):
    env.install(conf(env, "/proc/no/such/dir/registry.db"))
    with pytest.raises(RuntimeError) as failed:
        env.start()
    assert "AT01020" in str(failed.value)
    assert "does not exist" in str(failed.value)
