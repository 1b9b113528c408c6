"""Autobahn|Testsuite section 4, reserved opcodes: non-control 3-7 (4.1.x)
and control 11-15 (4.2.x) must fail the connection at once with 1002. When
a valid text message precedes the bad frame, its echo must come back first
(OK; no echo is only NON-STRICT) and the ping after the bad frame must not
be answered."""
import pytest

from autobahn_client import (  # noqa: F401 (echo_server is a fixture)
    CLOSE_PROTOCOL_ERROR,
    OP_PING,
    OP_TEXT,
    FuzzClient,
    echo_server,
    expect_server_fails,
    message,
)

HELLO = b"Hello, world!"


@pytest.mark.parametrize(
    "opcode,payload",
    [
        pytest.param(3, b"", id="case_4_1_1"),
        pytest.param(4, b"reserved opcode payload", id="case_4_1_2"),
        pytest.param(11, b"", id="case_4_2_1"),
        pytest.param(12, b"reserved opcode payload", id="case_4_2_2"),
    ],
)
def test_reserved_opcode_alone(echo_server, request, opcode, payload):
    """4.1.1/4.1.2 (opcodes 3, 4), 4.2.1/4.2.2 (opcodes 11, 12)."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(opcode, payload)
        expect_server_fails(c, [], CLOSE_PROTOCOL_ERROR, label=request.node.callspec.id)


@pytest.mark.parametrize(
    "opcode,payload,chop",
    [
        pytest.param(5, b"", None, id="case_4_1_3"),
        pytest.param(6, HELLO, None, id="case_4_1_4"),
        pytest.param(7, HELLO, 1, id="case_4_1_5"),
        pytest.param(13, b"", None, id="case_4_2_3"),
        pytest.param(14, HELLO, None, id="case_4_2_4"),
        pytest.param(15, HELLO, 1, id="case_4_2_5"),
    ],
)
def test_reserved_opcode_after_a_message(echo_server, request, opcode, payload, chop):
    """Text, reserved opcode, ping (x.x.5 written byte-wise): echo, then 1002, no pong."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_TEXT, HELLO, chop=chop)
        c.send_frame(opcode, payload, chop=chop)
        c.send_frame(OP_PING, b"", chop=chop)
        expect_server_fails(c, [message(HELLO)], CLOSE_PROTOCOL_ERROR, non_strict=[], label=request.node.callspec.id)
