"""Autobahn|Testsuite section 3, reserved bits. No extension is negotiated,
so any frame with RSV != 0 must fail the connection at once with 1002. When
a valid message precedes the bad frame (3.2-3.4) its echo must come back
first (OK; no echo is only NON-STRICT), and the ping that follows the bad
frame must not be answered."""
import pytest

from autobahn_client import (  # noqa: F401 (echo_server is a fixture)
    CLOSE_PROTOCOL_ERROR,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    FuzzClient,
    echo_server,
    expect_server_fails,
    message,
)

HELLO = b"Hello, world!"


@pytest.mark.parametrize(
    "opcode,payload,rsv",
    [
        pytest.param(OP_TEXT, HELLO, 1, id="case_3_1"),
        pytest.param(OP_BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 5, id="case_3_5"),
        # The suite describes 3.6 as "ping with RSV = 6" but sends a binary frame.
        pytest.param(OP_BINARY, HELLO, 6, id="case_3_6"),
        pytest.param(OP_CLOSE, b"", 7, id="case_3_7"),
    ],
)
def test_single_frame_with_rsv(echo_server, request, opcode, payload, rsv):
    """3.1 text RSV=1, 3.5 binary RSV=5, 3.6 binary RSV=6, 3.7 close RSV=7."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(opcode, payload, rsv=rsv)
        expect_server_fails(c, [], CLOSE_PROTOCOL_ERROR, label=request.node.callspec.id)


@pytest.mark.parametrize(
    "rsv,sync,chop",
    [
        pytest.param(2, False, None, id="case_3_2"),
        pytest.param(3, True, None, id="case_3_3"),
        pytest.param(4, False, 1, id="case_3_4"),
    ],
)
def test_rsv_after_a_valid_message(echo_server, request, rsv, sync, chop):
    """3.2 (one write), 3.3 (frame-wise writes), 3.4 (byte-wise writes):
    text, text with RSV, ping -> echo of the first text, then 1002, no pong."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_TEXT, HELLO, sync=sync, chop=chop)
        c.send_frame(OP_TEXT, HELLO, rsv=rsv, sync=sync, chop=chop)
        c.send_frame(OP_PING, b"", sync=sync, chop=chop)
        expect_server_fails(c, [message(HELLO)], CLOSE_PROTOCOL_ERROR, non_strict=[], label=request.node.callspec.id)
