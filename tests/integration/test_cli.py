"""Command line and environment: bad values and a busy port fail at start
with one line on stderr and a non-zero exit code."""
import os
import socket
import subprocess

import pytest

from parley_server import PARLEY_BIN, ParleyServer, RawWS, get


def run(args, env=None, timeout=15):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [PARLEY_BIN, *args], capture_output=True, timeout=timeout, env=full_env, stdin=subprocess.DEVNULL
    )


def assert_one_line_error(p):
    assert p.returncode != 0, f"exit 0 with stdout {p.stdout!r}"
    err = p.stderr.decode("utf-8", "replace").strip()
    assert err, "no message on stderr"
    assert len(err.splitlines()) == 1, f"expected one line on stderr, got:\n{err}"
    assert b"listening" not in p.stdout


BAD_VALUES = [
    ["--port", "abc"],
    ["--port", "-1"],
    ["--port", "65536"],
    ["--port", "99999999999999999999"],
    ["--max-message-size", "-5"],
    ["--max-message-size", "lots"],
    ["--handshake-timeout", "-1"],
    ["--handshake-timeout", "soon"],
    ["--ping-interval", "x"],
    ["--idle-timeout", "-3"],
    ["--shutdown-timeout", "never"],
    ["--log-level", "chatty"],
    ["--host", "not a host name"],
]


@pytest.mark.parametrize("args", BAD_VALUES, ids=[" ".join(a) for a in BAD_VALUES])
def test_bad_flag_value(args):
    base = {"--port": ["--host", "127.0.0.1"], "--host": ["--port", "0"]}.get(args[0], ["--host", "127.0.0.1", "--port", "0"])
    assert_one_line_error(run([*base, *args]))


@pytest.mark.parametrize(
    "name,value",
    [("PARLEY_PORT", "abc"), ("PARLEY_MAX_MESSAGE_SIZE", "-1"), ("PARLEY_IDLE_TIMEOUT", "soon")],
)
def test_bad_environment_value(name, value):
    args = ["--host", "127.0.0.1"] + ([] if name == "PARLEY_PORT" else ["--port", "0"])
    assert_one_line_error(run(args, env={name: value}))


def test_unknown_flag_fails():
    p = run(["--host", "127.0.0.1", "--port", "0", "--no-such-flag"])
    assert p.returncode != 0
    assert p.stderr.strip()


def test_busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run(["--host", "127.0.0.1", "--port", str(port)])
    assert_one_line_error(p)
    assert str(port) in p.stderr.decode(), "the message should name the port"


def test_port_taken_by_another_parley():
    with ParleyServer() as first:
        p = run(["--host", "127.0.0.1", "--port", str(first.port)])
        assert_one_line_error(p)
        assert get(first.port, "/healthz").status == 200  # the first is unaffected


def test_environment_sets_flags():
    with ParleyServer(env={"PARLEY_ECHO": "true"}) as srv:
        with RawWS(srv.port) as c:
            assert c.upgrade("/echo").status == 101
            c.send_text("env")
            assert c.recv_text() == "env"


def test_flag_overrides_environment():
    with ParleyServer(env={"PARLEY_PORT": "1"}) as srv:  # --port 0 on the command line wins
        assert srv.port != 1
        assert get(srv.port, "/healthz").status == 200


def test_help_exits_zero():
    p = run(["--help"])
    assert p.returncode == 0
    out = p.stdout.decode()
    for flag in ("--host", "--port", "--echo", "--max-message-size", "--handshake-timeout", "--ping-interval",
                 "--idle-timeout", "--shutdown-timeout", "--log-level", "--data-dir"):
        assert flag in out, f"{flag} missing from --help"
