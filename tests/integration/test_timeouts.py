"""Handshake timeout, server pings and the idle timeout. These tests measure
time on purpose: they wait (bounded) for the server to act, and check it
acted neither too early nor too late."""
import asyncio
import time

import pytest
import websockets

from parley_server import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Closed, RawWS, join_notice, unique_room

MARGIN = 2.0  # scheduling slack for a loaded 2-core machine and a sanitizer build


def wait_eof(c: RawWS, timeout: float) -> float:
    """Seconds until the server closed TCP (EOF or reset)."""
    start = time.monotonic()
    c.expect_eof(timeout, keep=True)
    return time.monotonic() - start


@pytest.mark.parametrize(
    "partial",
    [b"", b"GET / HTTP/1.1\r\nHost: x\r\n", b"GET /wss HTTP/1.1\r\nUpgrade: websocket\r\n"],
    ids=["nothing", "half-get", "half-upgrade"],
)
def test_handshake_timeout_closes_an_incomplete_request(start_server, partial):
    srv = start_server("--handshake-timeout", "1")
    with RawWS(srv.port, timeout=1 + MARGIN + 2) as c:
        if partial:
            c.send(partial)
        elapsed = wait_eof(c, 1 + MARGIN)
        assert 0.8 <= elapsed <= 1 + MARGIN, elapsed
        # Whatever the server sent before closing (e.g. a 408) must be HTTP, not a 101.
        assert not bytes(c.buf).startswith(b"HTTP/1.1 101")


def test_handshake_timeout_does_not_touch_upgraded_connections(start_server):
    srv = start_server("--handshake-timeout", "1", "--ping-interval", "30", "--idle-timeout", "60")
    path = f"/ws/{unique_room()}"
    a = RawWS.open(srv.port, path)
    b = RawWS.open(srv.port, path)
    assert a.recv_text() == join_notice(2)
    # Well past the handshake timeout, the upgraded connection is still there.
    with pytest.raises(TimeoutError):
        a.recv_frame(timeout=1 + MARGIN)
    b.send_text("still open")
    assert a.recv_text() == "still open"


def test_server_pings_keep_a_responsive_client_alive(start_server):
    srv = start_server("--ping-interval", "1", "--idle-timeout", "3")
    path = f"/ws/{unique_room()}"
    a = RawWS.open(srv.port, path)
    pings = 0
    deadline = time.monotonic() + 5.5  # longer than the idle timeout
    while time.monotonic() < deadline:
        try:
            f = a.recv_frame(timeout=deadline - time.monotonic())
        except TimeoutError:
            break
        except Closed:
            pytest.fail(f"server closed a client that answered {pings} pings")
        assert f.opcode != OP_CLOSE, f"closed with {f.close_code} after {pings} answered pings"
        if f.opcode == OP_PING:
            pings += 1
            a.send_frame(OP_PONG, f.payload)
    assert pings >= 3, pings
    # Still usable. The server goes on pinging every second, so a ping may
    # come before each text: answer it, as a browser would.
    def next_text():
        while True:
            f = a.recv_frame(timeout=5)
            if f.opcode == OP_PING:
                a.send_frame(OP_PONG, f.payload)
                continue
            assert f.opcode == OP_TEXT and f.fin, f"expected a text frame, got {f}"
            return f.text

    b = RawWS.open(srv.port, path)
    assert next_text() == join_notice(2)
    b.send_text("alive")
    assert next_text() == "alive"


def test_silent_client_is_pinged_then_closed_1001(start_server):
    # The server waits for the client's close reply for at most the handshake
    # timeout (observed behaviour, default 10 s); keep that short here.
    srv = start_server("--ping-interval", "1", "--idle-timeout", "3", "--handshake-timeout", "1")
    a = RawWS.open(srv.port, f"/ws/{unique_room()}")
    start = time.monotonic()
    pings = 0
    while True:
        f = a.recv_frame(timeout=3 + MARGIN + 1)
        if f.opcode == OP_PING:
            pings += 1
            continue
        assert f.opcode == OP_CLOSE, f
        break
    elapsed = time.monotonic() - start
    assert f.close_code == 1001
    assert 2.5 <= elapsed <= 3 + MARGIN, elapsed
    assert pings >= 1
    # The TCP close follows even though this client never answers.
    a.expect_eof(timeout=1 + MARGIN)


def test_websockets_client_without_own_pings_stays_connected(start_server):
    """python-websockets answers the server's pings by itself (it sends no
    pings of its own here), so the server must keep the connection."""
    srv = start_server("--ping-interval", "1", "--idle-timeout", "3")
    path = f"/ws/{unique_room()}"

    async def scenario():
        async with websockets.connect(srv.url(path), ping_interval=None) as a:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(a.recv(), timeout=5)
            async with websockets.connect(srv.url(path), ping_interval=None) as b:
                assert await asyncio.wait_for(a.recv(), 5) == join_notice(2)
                await b.send("still here")
                assert await asyncio.wait_for(a.recv(), 5) == "still here"

    asyncio.run(scenario())
