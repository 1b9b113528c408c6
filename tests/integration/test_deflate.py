"""permessage-deflate (RFC 7692) against the real server, with clients that
do not share its code: our raw client with Python's zlib binding
(autobahn_deflate.DeflateClient), and python3-websockets' own
permessage-deflate.

- negotiation over the wire: what the server answers to real offers, bad
  offers declined without failing the upgrade, --deflate off;
- bytes on the wire: compressed echoes, --deflate-threshold;
- protocol errors on compressed frames: 1002 / 1007;
- zip bombs: a small message inflating past --max-message-size closes 1009,
  the server's RSS does not grow with the bombs, a bystander keeps its echo
  round trip;
- python3-websockets with compression against both policies (echo and chat).
"""
import asyncio
import os
import threading
import time
import zlib

import pytest
import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from autobahn_client import OP_BINARY, OP_CONT, OP_PING, OP_TEXT, Event, build_frame
from autobahn_deflate import RSV1, DeflateClient, Offer
from parley_server import RawWS, join_notice, unique_room

T = 10  # seconds for any single wait
SHARED_ANSWER = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
SMALL_CLIENT_WINDOW = "; client_max_window_bits=12"  # asked of clients that allow it


@pytest.fixture(scope="module")
def echo(request, tmp_path_factory):
    from parley_server import ParleyServer

    srv = ParleyServer(["--echo", "--history", "off", "--data-dir", tmp_path_factory.mktemp("d")])
    yield srv
    srv.save_log(request.module.__name__)
    srv.stop_clean()


def answer_to(port, offer, path="/echo"):
    with RawWS(port) as ws:
        resp = ws.upgrade(path, {"Sec-WebSocket-Extensions": offer} if offer is not None else None)
        assert resp.status == 101, resp.raw_head
        return resp.header("Sec-WebSocket-Extensions")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def roundtrip(c: DeflateClient, payload: bytes, binary=False, compress=True):
    if compress:
        c.send_compressed(payload, binary)
    else:
        c.send_message(payload, binary=binary)
    got = c.read_until_close(T, until_events=1)
    assert got is False, f"closed: {c.outcome!r}"
    ev = c.outcome.events.pop()
    assert ev == Event("message", payload, binary), ev
    return c


# --- Negotiation over the wire ------------------------------------------------


def test_answers_to_real_offers(echo):
    # Chromium and npm ws; Firefox; python3-websockets; Safari's older style.
    assert answer_to(echo.port, "permessage-deflate; client_max_window_bits") == SHARED_ANSWER + SMALL_CLIENT_WINDOW
    assert answer_to(echo.port, "permessage-deflate") == SHARED_ANSWER
    assert (
        answer_to(echo.port, "permessage-deflate; server_max_window_bits=10; client_max_window_bits")
        == SHARED_ANSWER + "; server_max_window_bits=10" + SMALL_CLIENT_WINDOW
    )
    # A client that will use 9 bits anyway is not asked for 12.
    assert answer_to(echo.port, "permessage-deflate; client_max_window_bits=9") == SHARED_ANSWER
    assert answer_to(echo.port, "x-webkit-deflate-frame") is None
    assert answer_to(echo.port, None) is None
    # On the chat endpoints too, with a subprotocol.
    with RawWS(echo.port) as ws:
        resp = ws.upgrade(
            f"/ws/{unique_room()}",
            {"Sec-WebSocket-Extensions": "permessage-deflate", "Sec-WebSocket-Protocol": "parley.v1"},
        )
        assert resp.status == 101
        assert resp.header("Sec-WebSocket-Extensions") == SHARED_ANSWER
        assert resp.header("Sec-WebSocket-Protocol") == "parley.v1"


def test_bad_offers_are_declined_not_refused(echo):
    for offer in [
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; foo",
        'permessage-deflate; server_max_window_bits="1',
        "permessage-deflate;;",
    ]:
        assert answer_to(echo.port, offer) is None, offer
    # The first acceptable offer of a list wins.
    assert (
        answer_to(echo.port, "permessage-deflate; foo, permessage-deflate; server_max_window_bits=12")
        == SHARED_ANSWER + "; server_max_window_bits=12"
    )


def test_deflate_off(start_server):
    srv = start_server("--echo", "--deflate", "off")
    assert answer_to(srv.port, "permessage-deflate; client_max_window_bits") is None
    # Without the extension RSV1 is still a protocol error.
    with RawWS.open(srv.port, "/echo", headers={"Sec-WebSocket-Extensions": "permessage-deflate"}) as ws:
        ws.send(build_frame(OP_TEXT, b"\x00", rsv=RSV1))
        code, _, _ = ws.expect_close()
        assert code == 1002


def test_takeover_policy_answers(start_server):
    srv = start_server("--echo", "--deflate", "takeover")
    assert answer_to(srv.port, "permessage-deflate; client_max_window_bits") == (
        "permessage-deflate; client_max_window_bits=12"
    )
    assert answer_to(srv.port, "permessage-deflate") == "permessage-deflate"
    assert answer_to(srv.port, "permessage-deflate; client_no_context_takeover; server_no_context_takeover") == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    )


# --- Bytes on the wire ------------------------------------------------------------


def test_compressed_echo_is_small_on_the_wire(echo):
    text = ("The quick brown fox jumps over the lazy dog. " * 2000).encode()
    with DeflateClient(echo.port, [Offer()]) as c:
        before = c.wire_bytes_received
        roundtrip(c, text)
        assert c.wire_bytes_received - before < len(text) // 20, c.wire_bytes_received - before
        assert c.compressed_received == 1
        # Uncompressed messages from the client are fine, and echoed compressed.
        roundtrip(c, text, compress=False)
        assert c.compressed_received == 2


def test_threshold(start_server):
    srv = start_server("--echo", "--deflate-threshold", "1000")
    compressible = b"abcd" * 1000
    with DeflateClient(srv.port, [Offer()]) as c:
        roundtrip(c, compressible[:999])
        assert getattr(c, "compressed_received", 0) == 0  # under the threshold: plain
        roundtrip(c, compressible[:1000])
        assert c.compressed_received == 1
        # Incompressible data is sent plain whatever its size.
        roundtrip(c, os.urandom(5000), binary=True)
        assert c.compressed_received == 1


def test_default_threshold_leaves_short_messages_plain(echo):
    with DeflateClient(echo.port, [Offer()]) as c:
        roundtrip(c, b"x" * 127)
        assert getattr(c, "compressed_received", 0) == 0
        roundtrip(c, b"x" * 128)
        assert c.compressed_received == 1


# --- Protocol errors ------------------------------------------------------------------


def close_code_after(port, data: bytes):
    with DeflateClient(port, [Offer()]) as c:
        c.send(data)
        got = c.read_until_close(T)
        assert got is not None, f"TCP closed without a close frame: {c.outcome!r}"
        assert c.wait_tcp_close(T)
        return got.code


def test_protocol_errors_on_compressed_frames(echo):
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    good = z.compress(b"hello hello hello") + z.flush(zlib.Z_SYNC_FLUSH)
    good = good[:-4]
    # RSV1 on a continuation, on a ping: 1002.
    split = build_frame(OP_TEXT, good[:3], fin=False, rsv=RSV1) + build_frame(OP_CONT, good[3:], rsv=RSV1)
    assert close_code_after(echo.port, split) == 1002
    assert close_code_after(echo.port, build_frame(OP_PING, b"", rsv=RSV1)) == 1002
    # RSV2/RSV3 stay errors.
    assert close_code_after(echo.port, build_frame(OP_TEXT, good, rsv=2)) == 1002
    # Not DEFLATE; DEFLATE of text that is not UTF-8: 1007.
    assert close_code_after(echo.port, build_frame(OP_BINARY, b"\xff\xff\xff\xff", rsv=RSV1)) == 1007
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    bad_text = (z.compress(b"caf\xc3\x28") + z.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert close_code_after(echo.port, build_frame(OP_TEXT, bad_text, rsv=RSV1)) == 1007


# --- Zip bombs -----------------------------------------------------------------------------


def bomb(inflated: int) -> bytes:
    """A permessage-deflate payload of zeros (valid UTF-8 too) inflating to
    `inflated` bytes, in well under 1/1000 of that."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    out = [z.compress(chunk) for _ in range(inflated >> 20)]
    out.append(z.flush(zlib.Z_SYNC_FLUSH))
    data = b"".join(out)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def test_zip_bomb_closes_1009_and_costs_nothing(start_server):
    # 1 MiB limit (the default); each bomb is ~250 KiB inflating to 256 MiB.
    # A small ASan quarantine, so that freed buffers count as freed.
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=4"]))
    srv = start_server("--echo", env={"ASAN_OPTIONS": asan})
    payload = bomb(256 << 20)
    assert len(payload) < 300 << 10
    stop = threading.Event()
    worst = [0.0]
    errors = []

    def bystander():
        # Compressed round trips all along; none may take long.
        try:
            with DeflateClient(srv.port, [Offer()]) as c:
                msg = b"bystander " * 50
                while not stop.is_set():
                    t0 = time.monotonic()
                    roundtrip(c, msg)
                    worst[0] = max(worst[0], time.monotonic() - t0)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    # Warm up (loops, buffers, the allocator) so that RSS is the baseline.
    with DeflateClient(srv.port, [Offer()]) as c:
        roundtrip(c, b"warm up " * 10000)
    base = rss_kib(srv.proc.pid)
    t = threading.Thread(target=bystander)
    t.start()
    try:
        for i in range(12):
            frags = i % 2 == 1  # every other bomb cut into 4 KiB frames
            with DeflateClient(srv.port, [Offer()]) as c:
                if frags:
                    parts = [payload[j : j + 4096] for j in range(0, len(payload), 4096)]
                    frames = [build_frame(OP_TEXT, parts[0], fin=False, rsv=RSV1)]
                    frames += [build_frame(OP_CONT, p, fin=False) for p in parts[1:-1]]
                    frames.append(build_frame(OP_CONT, parts[-1]))
                    data = b"".join(frames)
                else:
                    data = build_frame(OP_BINARY, payload, rsv=RSV1)
                try:
                    c.send(data)
                except OSError:
                    pass  # the server may close before reading everything
                got = c.read_until_close(T)
                assert got is not None and got.code == 1009, f"bomb {i}: {c.outcome!r}"
    finally:
        stop.set()
        t.join(T)
    assert not errors, errors
    grown = rss_kib(srv.proc.pid) - base
    # Twelve bombs of 256 MiB, at most 1 MiB (the limit) inflated each, and
    # freed: the server's RSS barely moves (3 GiB if they were inflated).
    assert grown < 24 * 1024, f"RSS grew by {grown} KiB"
    assert worst[0] < 2.0, f"a bystander's round trip took {worst[0]:.2f}s"
    # The server is fine afterwards.
    with DeflateClient(srv.port, [Offer()]) as c:
        roundtrip(c, b"after the bombs " * 100)


def test_bomb_just_under_the_limit_is_delivered(start_server):
    srv = start_server("--echo", "--max-message-size", str(4 << 20))
    with DeflateClient(srv.port, [Offer()]) as c:
        msg = bytes(4 << 20)
        roundtrip(c, msg, binary=True)
        c.send_compressed(msg + b"\x00", True)
        got = c.read_until_close(T)
        assert got is not None and got.code == 1009, c.outcome


# --- python3-websockets, its own permessage-deflate ---------------------------------------


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


FACTORIES = {
    "default": None,  # websockets' default offer: permessage-deflate; client_max_window_bits
    "small windows": ClientPerMessageDeflateFactory(server_max_window_bits=9, client_max_window_bits=10),
    "no context": ClientPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True, client_max_window_bits=True
    ),
    "server window 8": ClientPerMessageDeflateFactory(server_max_window_bits=8),
}


@pytest.mark.parametrize("mode", ["on", "takeover"])
@pytest.mark.parametrize("factory", list(FACTORIES), ids=list(FACTORIES))
def test_websockets_echo(start_server, mode, factory):
    srv = start_server("--echo", "--deflate", mode, "--max-message-size", str(8 << 20))
    extensions = [FACTORIES[factory]] if FACTORIES[factory] else None
    texts = ["", "x", "héllo 你好 👋" * 3, "a" * 127, "chat line " * 20, "é" * 100000, os.urandom(3000).hex()]
    blobs = [b"", os.urandom(200), bytes(1 << 20), os.urandom(70000)]

    async def scenario():
        kw = {"max_size": None}
        if extensions:
            kw["extensions"] = extensions
        async with websockets.connect(srv.url("/echo"), **kw) as ws:
            assert "permessage-deflate" in ws.response_headers.get("Sec-WebSocket-Extensions", "")
            for round_ in range(3):  # several rounds: contexts carry over
                for t in texts:
                    await ws.send(t)
                    assert await asyncio.wait_for(ws.recv(), T) == t
                for b in blobs:
                    await ws.send(b)
                    assert await asyncio.wait_for(ws.recv(), T) == b
            await ws.send(iter(["frag", "mented ", "消息" * 500]))
            assert await asyncio.wait_for(ws.recv(), T) == "fragmented " + "消息" * 500

    run(scenario())


@pytest.mark.parametrize("mode", ["on", "takeover"])
def test_websockets_chat_with_compression(start_server, mode):
    srv = start_server("--deflate", mode, "--history", "off")
    url = srv.url(f"/ws/{unique_room()}")
    line = "a chat message long enough to be compressed, " * 5

    async def scenario():
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            assert await asyncio.wait_for(a.recv(), T) == join_notice(2)
            for i in range(20):
                await a.send(f"{i}: {line}")
                assert await asyncio.wait_for(b.recv(), T) == f"{i}: {line}"
                await b.send(f"{i} back: {line}")
                assert await asyncio.wait_for(a.recv(), T) == f"{i} back: {line}"

    run(scenario())
