"""Autobahn|Testsuite section 2, pings and pongs. The suite checks that a
ping is answered by a pong carrying the same payload (empty, text, binary,
125 bytes, written one byte at a time), that a ping with a 126-byte payload
fails the connection with 1002 (control frames carry at most 125 bytes),
that unsolicited pongs get no answer, and that ten pings get ten pongs in
order. The client closes with 1000 once the pongs are in (except 2.5)."""
import pytest

from autobahn_client import (  # noqa: F401 (echo_server is a fixture)
    CLOSE_PROTOCOL_ERROR,
    OP_PING,
    OP_PONG,
    FuzzClient,
    echo_server,
    expect_close_reply,
    expect_server_fails,
    finish_client_close,
    pong,
)

BINARY = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"


@pytest.mark.parametrize(
    "payload,chop",
    [
        pytest.param(b"", None, id="case_2_1"),
        pytest.param(b"Hello, world!", None, id="case_2_2"),
        pytest.param(BINARY, None, id="case_2_3"),
        pytest.param(b"\xfe" * 125, None, id="case_2_4"),
        pytest.param(b"\xfe" * 125, 1, id="case_2_6"),
    ],
)
def test_ping_gets_pong(echo_server, request, payload, chop):
    """2.1-2.4, 2.6: pong with the ping's payload (2.6 written byte-wise)."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_PING, payload, chop=chop)
        finish_client_close(c, [pong(payload)], label=request.node.callspec.id)


def test_case_2_5_ping_of_126_bytes_is_1002(echo_server):
    """2.5: ping with a 126-byte payload: failed at once with 1002."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_PING, b"\xfe" * 126)
        expect_server_fails(c, [], CLOSE_PROTOCOL_ERROR, label="2.5")


@pytest.mark.parametrize(
    "payload", [pytest.param(b"", id="case_2_7"), pytest.param(b"unsolicited pong payload", id="case_2_8")]
)
def test_unsolicited_pong_is_ignored(echo_server, request, payload):
    """2.7, 2.8: unsolicited pong then close 1000: nothing but the close reply."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_PONG, payload)
        c.send_close()
        expect_close_reply(c, [], label=request.node.callspec.id)


def test_case_2_9_pong_then_ping(echo_server):
    """2.9: unsolicited pong, then ping: only the ping's pong comes back."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_PONG, b"unsolicited pong payload")
        c.send_frame(OP_PING, b"ping payload")
        finish_client_close(c, [pong(b"ping payload")], label="2.9")


@pytest.mark.parametrize("chop", [pytest.param(None, id="case_2_10"), pytest.param(1, id="case_2_11")])
def test_ten_pings(echo_server, request, chop):
    """2.10, 2.11: ten pings (2.11 written byte-wise): ten pongs, in order."""
    with FuzzClient(echo_server.port) as c:
        for i in range(10):
            c.send_frame(OP_PING, f"payload-{i}", chop=chop)
        finish_client_close(c, [pong(f"payload-{i}") for i in range(10)], label=request.node.callspec.id)
