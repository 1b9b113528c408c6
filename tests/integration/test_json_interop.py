"""parley.v1 with a second independent client, Debian's python3-websockets:
subprotocol negotiation, a JSON conversation with presence and history,
and a plain-text client in the same room (docs/PROTOCOL.md)."""
import asyncio
import json

import pytest
import websockets
from websockets.exceptions import InvalidStatusCode

from parley_server import join_notice, leave_notice, unique_room

T = 10  # seconds for any single wait


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


class Json:
    """A parley.v1 connection: send objects, take events in order or by match."""

    def __init__(self, ws):
        self.ws = ws
        self.pending = []
        self.welcome = None

    @classmethod
    async def open(cls, url, protocols=("parley.v1",)):
        ws = await websockets.connect(url, subprotocols=list(protocols), open_timeout=T, ping_interval=None)
        return cls(ws)

    async def send(self, **message):
        await self.ws.send(json.dumps(message))

    async def next(self):
        if self.pending:
            return self.pending.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), T))

    async def take(self, **fields):
        """The first event whose fields match; others stay queued in order."""
        for i, e in enumerate(self.pending):
            if all(e.get(k) == v for k, v in fields.items()):
                return self.pending.pop(i)
        while True:
            e = json.loads(await asyncio.wait_for(self.ws.recv(), T))
            if all(e.get(k) == v for k, v in fields.items()):
                return e
            self.pending.append(e)

    async def hello(self, name, **extra):
        await self.send(type="hello", name=name, **extra)
        self.welcome = await self.take(type="welcome")
        return self.welcome

    async def join(self, room, **extra):
        await self.send(type="join", room=room, **extra)
        return await self.next()

    async def close(self):
        await self.ws.close()


def test_subprotocol_negotiation(server):
    async def scenario():
        # The server picks the version it knows among those offered.
        for offered in (["parley.v1"], ["parley.v2", "parley.v1"], ["chat", "parley.v1"]):
            c = await Json.open(server.url("/ws"), offered)
            assert c.ws.subprotocol == "parley.v1", offered
            assert (await c.hello("py"))["protocol"] == 1
            await c.close()
        # Nothing known offered on a room path: plain text, no subprotocol.
        room = unique_room("neg")
        async with websockets.connect(server.url(f"/ws/{room}"), subprotocols=["parley.v2"]) as p:
            assert p.subprotocol is None
            async with websockets.connect(server.url(f"/ws/{room}")) as q:
                assert q.subprotocol is None
                assert await asyncio.wait_for(p.recv(), T) == join_notice(2)

    run(scenario())


def test_unknown_path_is_404_for_json_clients_too(server):
    async def scenario():
        for path in ("/ws/a/b", "/ws/", "/chat", "/ws/a%20b"):
            with pytest.raises(InvalidStatusCode) as err:
                await websockets.connect(server.url(path), subprotocols=["parley.v1"], open_timeout=T)
            assert err.value.status_code == 404, path

    run(scenario())


def test_conversation_presence_and_history(server):
    async def scenario():
        room = unique_room("py")
        a = await Json.open(server.url("/ws"))
        wa = await a.hello("アリス")
        ja = await a.join(room)
        assert ja["type"] == "joined" and ja["you"] == "アリス" and ja["history"] == []
        b = await Json.open(server.url(f"/ws/{room}"))
        wb = await b.hello("bob")
        jb = await b.join(room)
        assert {m["user"] for m in jb["members"]} == {wa["user"], wb["user"]}
        p = await a.next()
        assert p == {"type": "presence", "room": room, "event": "joined", "user": wb["user"], "name": "bob", "online": 2, "users": 2}

        await a.send(type="send", room=room, id="py-1", text="こんにちは 👋")
        ack = await a.next()
        assert ack["type"] == "ack" and ack["id"] == "py-1" and ack["duplicate"] is False
        m = await b.next()
        assert m == {"type": "message", "room": room, "msg_id": ack["msg_id"], "ts": ack["ts"],
                     "user": wa["user"], "from": "アリス", "text": "こんにちは 👋", "id": "py-1"}

        await b.send(type="typing", room=room)
        assert await a.next() == {"type": "typing", "room": room, "user": wb["user"], "from": "bob"}

        await b.send(type="rename", name="robert")
        renamed = {"type": "presence", "room": room, "event": "renamed", "user": wb["user"], "name": "robert",
                   "old": "bob", "online": 2, "users": 2}
        assert await a.next() == renamed
        assert await b.next() == renamed

        # A reconnecting b catches up with since.
        await b.close()
        assert (await a.next())["event"] == "left"
        for i in range(3):
            await a.send(type="send", room=room, id=f"py-{i + 2}", text=f"while away {i}")
            assert (await a.next())["type"] == "ack"
        b2 = await Json.open(server.url("/ws"))
        w2 = await b2.hello("robert", resume=wb["resume"])
        assert w2["user"] == wb["user"]
        j2 = await b2.join(room, since=m["msg_id"])
        assert [x["text"] for x in j2["history"]] == [f"while away {i}" for i in range(3)]
        assert j2["truncated"] is False

        # Scroll back from the oldest shown.
        await b2.send(type="history", room=room, before=j2["history"][0]["msg_id"], limit=10)
        h = await b2.next()
        assert h["type"] == "history" and [x["id"] for x in h["messages"]] == ["py-1"] and h["truncated"] is False

        # An error keeps the connection usable.
        await b2.send(type="send", room=room, id="", text="x")
        e = await b2.next()
        assert e["type"] == "error" and e["code"] == "id_invalid"
        await b2.send(type="send", room=room, id="py-b", text="still here")
        assert (await b2.next())["type"] == "ack"
        await a.close()
        await b2.close()

    run(scenario())


def test_plain_text_and_json_in_one_room(server):
    async def scenario():
        room = unique_room("mixed")
        j = await Json.open(server.url("/ws"))
        await j.hello("json")
        await j.join(room)
        async with websockets.connect(server.url(f"/ws/{room}")) as p:
            pres = await j.next()
            assert pres["type"] == "presence" and pres["event"] == "joined" and pres["name"].startswith("guest-")
            await p.send("from plain")
            m = await j.next()
            assert (m["type"], m["from"], m["text"], m["id"]) == ("message", pres["name"], "from plain", "")
            await j.send(type="send", room=room, id="j1", text="from json")
            assert (await j.next())["type"] == "ack"
            assert await asyncio.wait_for(p.recv(), T) == "json: from json"
            other = await Json.open(server.url("/ws"))
            await other.hello("other")
            await other.join(room)
            assert await asyncio.wait_for(p.recv(), T) == join_notice(3)
            await other.close()
            assert await asyncio.wait_for(p.recv(), T) == leave_notice(2)
        left = await j.take(type="presence", event="left", user=pres["user"])
        assert left["online"] == 1
        await j.close()

    run(scenario())
