"""Interop with a second independent client, Debian's python3-websockets:
chat, notices, subprotocol negotiation, close codes, large messages."""
import asyncio

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from parley_server import join_notice, leave_notice, unique_room

T = 10  # seconds for any single wait


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), T)


def test_chat_between_websockets_clients(server):
    url = server.url(f"/ws/{unique_room()}")

    async def scenario():
        async with websockets.connect(url) as a:
            async with websockets.connect(url) as b:
                assert await recv(a) == join_notice(2)
                async with websockets.connect(url) as c:
                    assert await recv(a) == join_notice(3)
                    assert await recv(b) == join_notice(3)
                    await a.send("你好, websockets")
                    assert await recv(b) == "你好, websockets"
                    assert await recv(c) == "你好, websockets"
                    await c.send("")
                    assert await recv(a) == ""
                    assert await recv(b) == ""
                assert await recv(a) == leave_notice(2)
                assert await recv(b) == leave_notice(2)
            assert await recv(a) == leave_notice(1)

    run(scenario())


def test_websockets_fragmented_and_large(start_server):
    # 1 MiB passes the chat only with --max-text-bytes raised to the message size.
    url = start_server("--max-text-bytes", "1048576").url(f"/ws/{unique_room()}")

    async def scenario():
        async with websockets.connect(url, max_size=None) as a, websockets.connect(url, max_size=None) as b:
            assert await recv(a) == join_notice(2)
            await a.send(iter(["frag", "mented ", "消息"]))  # websockets sends an iterable as fragments
            assert await recv(b) == "fragmented 消息"
            big = "x" * 1048576
            await b.send(big)
            assert await recv(a) == big

    run(scenario())


def test_websockets_oversized_message_gets_1009(server):
    url = server.url(f"/ws/{unique_room()}")

    # Uncompressed, so that the frame header announces the size. (Compressed,
    # a plain-text message is inflated only up to --max-text-bytes and then
    # answered with the too-long notice, whatever its full size:
    # attack_deflate.test.mjs, docs/SECURITY.md "Message bytes and inflation".)
    async def scenario():
        async with websockets.connect(url, max_size=None, compression=None) as a:
            with pytest.raises(ConnectionClosed) as exc:
                await a.send("x" * (1048576 + 1))
                await recv(a)
            assert exc.value.rcvd is not None, exc.value
            assert exc.value.rcvd.code == 1009

    run(scenario())


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
def test_websockets_close_code_is_echoed(server, code):
    async def scenario():
        ws = await websockets.connect(server.url(f"/ws/{unique_room()}"))
        await ws.close(code, "bye")
        assert ws.close_rcvd is not None and ws.close_rcvd.code == code

    run(scenario())


def test_subprotocol_negotiation(server):
    url = server.url(f"/ws/{unique_room()}")

    async def scenario():
        async with websockets.connect(url, subprotocols=["parley.v1"]) as ws:
            assert ws.subprotocol == "parley.v1"
        async with websockets.connect(url, subprotocols=["other", "parley.v1"]) as ws:
            assert ws.subprotocol == "parley.v1"
        async with websockets.connect(url) as ws:
            assert ws.subprotocol is None

    run(scenario())


def test_unknown_subprotocol_is_omitted(server):
    """The server omits the header; python-websockets then reports None
    (it accepts a missing subprotocol)."""

    async def scenario():
        async with websockets.connect(server.url(f"/ws/{unique_room()}"), subprotocols=["chat"]) as ws:
            assert ws.subprotocol is None

    run(scenario())


@pytest.mark.parametrize("path", ["/ws/", "/ws/has space", "/nope", "/echo"])
def test_refused_upgrade_status(server, path):
    async def scenario():
        with pytest.raises(InvalidStatusCode) as exc:
            await websockets.connect(server.url(path.replace(" ", "%20")))
        assert exc.value.status_code == 404

    run(scenario())


def test_websockets_ping_roundtrip(server):
    async def scenario():
        async with websockets.connect(server.url(f"/ws/{unique_room()}")) as ws:
            for payload in (b"", b"abc", bytes(range(125))):
                pong = await ws.ping(payload)
                await asyncio.wait_for(pong, T)

    run(scenario())


def test_compression_is_negotiated(server):
    """python-websockets offers permessage-deflate by default; Parley accepts
    it (compressing without context, test_deflate.py has the details) and
    chat works compressed."""
    url = server.url(f"/ws/{unique_room()}")

    async def scenario():
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            assert a.response_headers.get("Sec-WebSocket-Extensions") == (
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12"
            )
            assert await recv(a) == join_notice(2)
            await b.send("plain " * 100)
            assert await recv(a) == "plain " * 100

    run(scenario())
