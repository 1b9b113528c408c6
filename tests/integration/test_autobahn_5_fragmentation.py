"""Autobahn|Testsuite section 5, fragmentation. The suite checks that
control frames cannot be fragmented (5.1, 5.2 -> 1002); that a text message
in two fragments is reassembled and echoed however the bytes are chopped on
the wire (5.3-5.5), also with a ping between the fragments, whose pong must
come first (5.6-5.8); that a continuation frame with nothing to continue
fails the connection with 1002, alone or before a text message, in one
write, frame-wise or byte-wise writes (5.9-5.14), also after a complete
fragmented message, whose echo must come first (5.15) and repeated (5.16,
5.17); that a data frame with opcode text inside a fragmented message is
1002 (5.18); and that pings between fragments are answered at once, before
the message is complete (5.19, 5.20)."""
import time

import pytest

from autobahn_client import (  # noqa: F401 (echo_server is a fixture)
    CLOSE_PROTOCOL_ERROR,
    FAIL_WITHIN,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FuzzClient,
    echo_server,
    expect_server_fails,
    finish_client_close,
    message,
    pong,
)


@pytest.mark.parametrize("opcode", [pytest.param(OP_PING, id="case_5_1"), pytest.param(OP_PONG, id="case_5_2")])
def test_fragmented_control_frame(echo_server, request, opcode):
    """5.1 ping, 5.2 pong in two fragments: 1002."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(opcode, b"fragment1", fin=False)
        c.send_frame(OP_CONT, b"fragment2")
        expect_server_fails(c, [], CLOSE_PROTOCOL_ERROR, label=request.node.callspec.id)


WRITES = [dict(), dict(sync=True), dict(chop=1)]  # one write, frame-wise, byte-wise


@pytest.mark.parametrize("how", [pytest.param(w, id=f"case_5_{3 + i}") for i, w in enumerate(WRITES)])
def test_two_fragments(echo_server, request, how):
    """5.3-5.5: text in 2 fragments: one echo of the joined payload."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_TEXT, b"fragment1", fin=False, **how)
        c.send_frame(OP_CONT, b"fragment2", **how)
        finish_client_close(c, [message(b"fragment1fragment2")], label=request.node.callspec.id)


@pytest.mark.parametrize("how", [pytest.param(w, id=f"case_5_{6 + i}") for i, w in enumerate(WRITES)])
def test_two_fragments_with_a_ping_between(echo_server, request, how):
    """5.6-5.8: text fragment, ping, last fragment: the pong, then the echo."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_TEXT, b"fragment1", fin=False, **how)
        c.send_frame(OP_PING, b"ping payload", **how)
        c.send_frame(OP_CONT, b"fragment2", **how)
        finish_client_close(c, [pong(b"ping payload"), message(b"fragment1fragment2")], label=request.node.callspec.id)


@pytest.mark.parametrize(
    "fin,how",
    [pytest.param(True, w, id=f"case_5_{9 + i}") for i, w in enumerate(WRITES)]
    + [pytest.param(False, w, id=f"case_5_{12 + i}") for i, w in enumerate(WRITES)],
)
def test_continuation_with_nothing_to_continue(echo_server, request, fin, how):
    """5.9-5.11 (FIN=1), 5.12-5.14 (FIN=0): a continuation frame first, then
    a text message: 1002, no echo."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_CONT, b"non-continuation payload", fin=fin, **how)
        c.send_frame(OP_TEXT, b"Hello, world!", **how)
        expect_server_fails(c, [], CLOSE_PROTOCOL_ERROR, label=request.node.callspec.id)


def test_case_5_15_continuation_after_a_complete_message(echo_server):
    """5.15: a complete fragmented message (echoed), then a continuation
    with nothing to continue and a text message: 1002 after the echo."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_TEXT, b"fragment1", fin=False)
        c.send_frame(OP_CONT, b"fragment2")
        c.send_frame(OP_CONT, b"fragment3", fin=False)
        c.send_frame(OP_TEXT, b"fragment4")
        expect_server_fails(c, [message(b"fragment1fragment2")], CLOSE_PROTOCOL_ERROR, non_strict=[], label="5.15")


@pytest.mark.parametrize("fin", [pytest.param(False, id="case_5_16"), pytest.param(True, id="case_5_17")])
def test_repeated_continuation_then_message(echo_server, request, fin):
    """5.16 (FIN=0), 5.17 (FIN=1), twice: continuation with nothing to
    continue, then text in 2 fragments: 1002 at the first frame, no echo."""
    with FuzzClient(echo_server.port) as c:
        for _ in range(2):
            c.send_frame(OP_CONT, b"fragment1", fin=fin)
            c.send_frame(OP_TEXT, b"fragment2", fin=False)
            c.send_frame(OP_CONT, b"fragment3")
        expect_server_fails(c, [], CLOSE_PROTOCOL_ERROR, label=request.node.callspec.id)


def test_case_5_18_second_fragment_with_text_opcode(echo_server):
    """5.18: text FIN=0 then text FIN=1 (should be a continuation): 1002."""
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_TEXT, b"fragment1", fin=False)
        c.send_frame(OP_TEXT, b"fragment2")
        expect_server_fails(c, [], CLOSE_PROTOCOL_ERROR, label="5.18")


@pytest.mark.parametrize("sync", [pytest.param(False, id="case_5_19"), pytest.param(True, id="case_5_20")])
def test_pings_answered_mid_message(echo_server, request, sync):
    """5.19 (5.20 with frame-wise writes): 2 fragments and a ping; the pong
    must arrive while the message is still incomplete (the suite waits 1 s
    here); then 2 fragments, a ping and the last fragment: both pongs, then
    the echo of the 5 fragments."""
    label = request.node.callspec.id
    frags = [f"fragment{i}".encode() for i in range(1, 6)]
    with FuzzClient(echo_server.port) as c:
        c.send_frame(OP_TEXT, frags[0], fin=False, sync=sync)
        c.send_frame(OP_CONT, frags[1], fin=False, sync=sync)
        c.send_frame(OP_PING, b"pongme 1!", sync=sync)
        t0 = time.monotonic()
        try:
            c.read_until_close(FAIL_WITHIN, until_events=1)
        except TimeoutError:
            msg = f"{label}: no pong within {FAIL_WITHIN}s while the message is incomplete: {c.outcome!r}"
            raise AssertionError(msg) from None
        assert c.outcome.events == [pong(b"pongme 1!")], f"{label}: {c.outcome!r}"
        # The suite continues 1 s after the first part; the pong is already in.
        time.sleep(max(0.0, 0.2 - (time.monotonic() - t0)))
        c.send_frame(OP_CONT, frags[2], fin=False, sync=sync)
        c.send_frame(OP_CONT, frags[3], fin=False, sync=sync)
        c.send_frame(OP_PING, b"pongme 2!", sync=sync)
        c.send_frame(OP_CONT, frags[4], sync=sync)
        expected = [pong(b"pongme 1!"), pong(b"pongme 2!"), message(b"".join(frags))]
        finish_client_close(c, expected, label=label)
