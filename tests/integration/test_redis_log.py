"""The room's log on Redis (issue 11 item 2, docs/SCALING.md "The room's log"):
edits, deletes, reactions and replies across two Parley nodes sharing a real
redis-server started by the test, compared with the SQLite engine.

- One script of changes runs with its author on node 0 and another member on
  node 1: every change is acked to its author and seen live by both, in
  msg_id order; refusals (not_author, not_found, deleted) and no-ops
  (duplicate acks) are the same as on one node.
- A member that was away reconnects to the other node with `since` and gets
  exactly the entries it missed; a new member's pages (since 0, newest,
  after, around) and search are those of a single SQLite node that ran the
  same script (differential: user ids and times aside, identical).
- Redis down: a change answers `unavailable` and is not stored (its resend
  after Redis is back is stored, not a duplicate).
- Retention releases the states and reply lists of the messages it removes.
- Uploads are off (files would live on one node): welcome says
  max_upload_bytes 0, `POST /upload` answers 501, a send naming a file is
  refused `unsupported`, and nothing is written under <data-dir>/files.
"""
import asyncio
import hashlib
import json
import os
import urllib.error
import urllib.request

import websockets

from parley_server import ParleyServer, join_notice, unique_room
from redis_harness import redis_command, start_node

T = 10
ARGS = ["--rate", "1000", "--rate-burst", "1000"]
REDIS_NODES, REDIS_NODE_PREFIX = 2, "l"  # the `nodes` fixture (conftest.py)


class Member:
    """A JSON client that records every event it gets."""

    def __init__(self, ws, user, resume, limits=None):
        self.ws, self.user, self.resume, self.limits = ws, user, resume, limits
        self.events = []
        self.cursor = 0

    @classmethod
    async def connect(cls, port, name, resume=None):
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["parley.v1"],
                                      open_timeout=T, ping_interval=None)
        hello = {"type": "hello", "name": name}
        if resume:
            hello["resume"] = resume
        await ws.send(json.dumps(hello))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), T))
        assert welcome["type"] == "welcome", welcome
        return cls(ws, welcome["user"], welcome["resume"], welcome["limits"])

    async def next(self, pred, what):
        """The first event from the cursor on that `pred` accepts (the cursor
        moves past it); events before it stay for later."""
        while True:
            for i in range(self.cursor, len(self.events)):
                if pred(self.events[i]):
                    e = self.events.pop(i)
                    return e
            try:
                self.events.append(json.loads(await asyncio.wait_for(self.ws.recv(), T)))
            except asyncio.TimeoutError:
                raise AssertionError(f"no {what} within {T}s; got {self.events}") from None

    async def answer(self, cid):
        """The ack or error answering client id `cid`."""
        return await self.next(lambda e: e["type"] in ("ack", "error") and e.get("id") == cid,
                               f"answer to {cid}")

    async def event(self, kind, **fields):
        return await self.next(
            lambda e: e["type"] == kind and all(e.get(k) == v for k, v in fields.items()),
            f"{kind} {fields}")

    async def request(self, msg):
        await self.ws.send(json.dumps(msg))
        return await self.answer(msg["id"])

    async def join(self, room, **extra):
        await self.ws.send(json.dumps({"type": "join", "room": room, **extra}))
        return await self.event("joined")


def live(e):
    return e["type"] in ("message", "message_edited", "message_deleted", "reaction")


async def run_script(room, port_a, port_b):
    """The script of changes: ann on port_a, bob on port_b. Returns what the
    clients saw (normalised) and the users."""
    a = await Member.connect(port_a, "ann")
    b = await Member.connect(port_b, "bob")
    await a.join(room)
    await b.join(room)
    log = []  # (who, answer) in order

    async def req(who, msg):
        answer = await who.request({"room": room, **msg})
        log.append((who is a and "ann" or "bob", answer))
        return answer

    m1 = await req(a, {"type": "send", "id": "a1", "text": "hello world"})
    m2 = await req(b, {"type": "send", "id": "b1", "text": "second"})
    assert (m1["type"], m2["type"]) == ("ack", "ack"), (m1, m2)
    t = m1["msg_id"]
    await req(a, {"type": "edit", "id": "a2", "target": t, "text": "hello edited"})
    await req(b, {"type": "react", "id": "b2", "target": t, "emoji": "👍"})
    await req(a, {"type": "react", "id": "a3", "target": t, "emoji": "👍"})
    await req(a, {"type": "react", "id": "a4", "target": t, "emoji": "👍"})  # a no-op
    await req(b, {"type": "send", "id": "b3", "text": "re: hello", "reply_to": t})
    await req(b, {"type": "unreact", "id": "b4", "target": t, "emoji": "👍"})
    await req(b, {"type": "edit", "id": "b5", "target": t, "text": "not mine"})  # not_author
    await req(a, {"type": "edit", "id": "a5", "target": t + 99, "text": "nothing"})  # not_found
    await req(a, {"type": "delete", "id": "a6", "target": t})
    await req(a, {"type": "delete", "id": "a6", "target": t})  # a resend: duplicate
    await req(a, {"type": "edit", "id": "a7", "target": t, "text": "too late"})  # deleted
    await req(b, {"type": "react", "id": "b6", "target": t, "emoji": "🎉"})  # deleted
    await req(b, {"type": "send", "id": "b7", "text": "after"})
    # Every stored entry reaches both members live, in msg_id order: messages
    # to all but their sender, changes to all.
    stored = sorted({e["msg_id"] for _, e in log if e["type"] == "ack" and not e["duplicate"]})
    sends = {"a1", "b1", "b3", "b7"}
    seen = {}
    for who, name in ((a, "ann"), (b, "bob")):
        own = {e["msg_id"] for w, e in log if w == name and e["type"] == "ack" and e["id"] in sends}
        want = [i for i in stored if i not in own]
        got = [await who.next(live, f"entry {i}") for i in want]
        assert [e["msg_id"] for e in got] == want, (name, got)
        seen[name] = got
    users = {a.user: "ann", b.user: "bob"}
    for m in (a, b):
        await m.ws.close()
    return normalise(log, users), normalise(seen, users), users, t


def normalise(value, users):
    """`value` without what differs between deployments: user ids become
    names, times become whether they are set."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("ts", "edited"):
                out[k] = bool(v)
            elif k in ("resume", "online", "users", "members"):
                continue
            else:
                out[k] = normalise(v, users)
        return out
    if isinstance(value, (list, tuple)):
        return [normalise(v, users) for v in value]
    if isinstance(value, str) and value in users:
        return users[value]
    return value


async def reads(port, room, users, target):
    """A new member's view of the room: every kind of page, and search."""
    c = await Member.connect(port, "carl")
    views = []
    joined = await c.join(room, since=0)
    views.append((joined["history"], joined["truncated"], joined["last_id"]))
    queries = [{"before": target + 100}, {"before": target + 5, "limit": 2}, {"after": target + 1, "limit": 4},
               {"around": target + 5, "limit": 3}, {"after": target + 6}]
    for i, q in enumerate(queries):
        await c.ws.send(json.dumps({"type": "history", "room": room, **q}))
        views.append(await c.event("history"))
    for q in ({"query": "HELLO"}, {"query": "re:"}, {"query": "after", "limit": 1}):
        await c.ws.send(json.dumps({"type": "search", "room": room, **q}))
        views.append(await c.event("search_results"))
    users = {**users, c.user: "carl"}
    await c.ws.close()
    return normalise(views, users)


def check_script_answers(answers):
    kinds = [(who, e["type"], e.get("code"), e.get("duplicate")) for who, e in answers]
    assert kinds == [
        ("ann", "ack", None, False), ("bob", "ack", None, False),  # sends
        ("ann", "ack", None, False),  # edit
        ("bob", "ack", None, False), ("ann", "ack", None, False),  # reacts
        ("ann", "ack", None, True),  # the same react again: a no-op
        ("bob", "ack", None, False),  # the reply
        ("bob", "ack", None, False),  # unreact
        ("bob", "error", "not_author", None), ("ann", "error", "not_found", None),
        ("ann", "ack", None, False), ("ann", "ack", None, True),  # delete, its resend
        ("ann", "error", "deleted", None), ("bob", "error", "deleted", None),
        ("bob", "ack", None, False)], kinds
    ids = [e["msg_id"] for _, e in answers if e["type"] == "ack" and not e["duplicate"]]
    assert ids == list(range(ids[0], ids[0] + 9)), "entries are numbered consecutively"


def test_changes_cross_nodes_as_on_sqlite(nodes):
    asyncio.run(asyncio.wait_for(changes_as_on_sqlite(nodes), 90))


async def changes_as_on_sqlite(nodes):
    room = unique_room("log")
    # A member of the room that goes away after the first two messages and
    # comes back on the other node with `since`.
    away = await Member.connect(nodes[1].port, "dora")
    await away.join(room)

    async def leave_after_two():
        await away.event("message", text="second")
        await away.ws.close()
    leaving = asyncio.create_task(leave_after_two())
    # A seed (plain-text) member on node 1: another node's edit reaches it
    # as the line "name (edited): text", and nothing of the other changes.
    seed = await websockets.connect(f"ws://127.0.0.1:{nodes[1].port}/ws/{room}",
                                    open_timeout=T, ping_interval=None)
    # Its own join notice: it is in the room before the first message.
    assert await asyncio.wait_for(seed.recv(), T) == join_notice(2)  # dora and itself
    answers, seen, users, target = await run_script(room, nodes[0].port, nodes[1].port)
    await leaving
    lines = []
    while len(lines) < 5:
        text = await asyncio.wait_for(seed.recv(), T)
        if not text.startswith("系统通知"):
            lines.append(text)
    assert lines == ["ann: hello world", "bob: second", "ann (edited): hello edited",
                     "bob: re: hello", "bob: after"], lines
    await seed.close()
    check_script_answers(answers)
    back = await Member.connect(nodes[0].port, "dora", resume=away.resume)
    joined = await back.join(room, since=target + 1)
    missed = [e["msg_id"] for e in joined["history"]]
    assert missed == list(range(target + 2, target + 9)) and not joined["truncated"], joined
    assert [e["type"] for e in joined["history"]] == [
        "message_edited", "reaction", "reaction", "message", "reaction", "message_deleted",
        "message"]
    reply = joined["history"][3]
    assert reply["reply_to"]["msg_id"] == target and reply["reply_to"]["deleted"]
    await back.ws.close()
    redis_view = [await reads(n.port, room, users, target) for n in nodes]
    assert redis_view[0] == redis_view[1], "the nodes answer the same read differently"

    # The same script on one node with the SQLite engine: the same answers,
    # the same live events, the same pages.
    sqlite = ParleyServer(ARGS)
    try:
        s_room = unique_room("log")
        s_answers, s_seen, s_users, s_target = await run_script(s_room, sqlite.port, sqlite.port)
        assert s_target == target
        sqlite_view = await reads(sqlite.port, s_room, s_users, s_target)
    finally:
        assert sqlite.stop() == 0, sqlite.stderr
    unroom = lambda v: json.loads(json.dumps(v).replace(s_room, room))  # noqa: E731
    assert answers == unroom(s_answers)
    assert seen == unroom(s_seen)
    # Search pages alike but for `truncated`/`next` on the last page, which
    # SQLite knows to be the last (PROTOCOL.md, "Search"); Redis, like the
    # memory engine, may send one more, empty, page.
    assert last_pages_alike(redis_view[0]) == last_pages_alike(unroom(sqlite_view))


def last_pages_alike(views):
    return [{k: v for k, v in p.items() if k not in ("truncated", "next")}
            if isinstance(p, dict) and p.get("type") == "search_results" else p for p in views]


def test_rules_hold_across_nodes_racing(nodes):
    asyncio.run(asyncio.wait_for(racing(nodes), 60))


async def racing(nodes):
    """Two users on two nodes react at once with 15 different emoji each: the
    limit of 20 emoji per message (PROTOCOL.md, `react`) holds for the
    deployment, and every node ends with the same state."""
    room = unique_room("race")
    a = await Member.connect(nodes[0].port, "ann")
    b = await Member.connect(nodes[1].port, "bob")
    await a.join(room)
    await b.join(room)
    target = (await a.request({"type": "send", "room": room, "id": "m", "text": "vote"}))["msg_id"]
    emoji = [chr(0x1F600 + i) for i in range(30)]

    async def react(who, tag, mine):
        for i, e in enumerate(mine):
            await who.ws.send(json.dumps({"type": "react", "room": room, "id": f"{tag}{i}",
                                          "target": target, "emoji": e}))
        return [await who.answer(f"{tag}{i}") for i in range(len(mine))]
    answers = sum(await asyncio.gather(react(a, "a", emoji[:15]), react(b, "b", emoji[15:])), [])
    acked = [e for e in answers if e["type"] == "ack"]
    refused = [e for e in answers if e["type"] == "error"]
    assert len(acked) == 20 and not any(e["duplicate"] for e in acked), answers
    assert len(refused) == 10 and all(e["code"] == "limit_reached" for e in refused), refused
    ids = sorted(e["msg_id"] for e in acked)
    assert ids == list(range(target + 1, target + 21))
    views = []
    for n in nodes:
        c = await Member.connect(n.port, "carl")
        joined = await c.join(room)
        views.append(joined["history"][0]["reactions"])
        await c.ws.close()
    assert len(views[0]) == 20 and views[0] == views[1]
    await a.ws.close()
    await b.ws.close()


def test_change_while_redis_is_down_is_unavailable_and_not_stored(nodes, redis):
    asyncio.run(asyncio.wait_for(change_while_down(nodes, redis), 60))


async def change_while_down(nodes, redis):
    room = unique_room("down")
    a = await Member.connect(nodes[0].port, "ann")
    b = await Member.connect(nodes[1].port, "bob")
    await a.join(room)
    await b.join(room)
    ack = await a.request({"type": "send", "room": room, "id": "a1", "text": "hello"})
    redis.kill()
    edit = {"type": "edit", "room": room, "id": "a2", "target": ack["msg_id"], "text": "changed"}
    down = await a.request(edit)
    assert down["type"] == "error" and down["code"] == "unavailable", down
    react = {"type": "react", "room": room, "id": "b1", "target": ack["msg_id"], "emoji": "👍"}
    down = await b.request(react)
    assert down["type"] == "error" and down["code"] == "unavailable", down
    redis.restart()
    # Once the nodes are back on Redis, the resends are stored (not
    # duplicates: nothing was stored while Redis was down).
    for who, msg in ((a, edit), (b, react)):
        for _ in range(100):
            answer = await who.request(msg)
            if answer["type"] == "ack":
                break
            assert answer.get("code") == "unavailable", answer
            await asyncio.sleep(0.1)
        assert answer["type"] == "ack" and not answer["duplicate"], answer
    assert (await b.event("message_edited"))["text"] == "changed"
    assert (await a.event("reaction"))["count"] == 1
    c = await Member.connect(nodes[1].port, "carl")
    joined = await c.join(room, since=0)
    assert [e["msg_id"] for e in joined["history"]] == [1, 2, 3]
    assert joined["history"][0]["text"] == "changed" and joined["history"][0]["rev"] == 3
    for m in (a, b, c):
        await m.ws.close()


def test_retention_releases_states_and_reply_lists(redis):
    asyncio.run(asyncio.wait_for(retention(redis), 60))


async def retention(redis):
    node = start_node(redis, "r0", *ARGS, "--history-retain", "4")
    try:
        room = unique_room("retain")
        a = await Member.connect(node.port, "ann")
        await a.join(room)
        await a.request({"type": "send", "room": room, "id": "a1", "text": "first"})
        await a.request({"type": "send", "room": room, "id": "a2", "text": "re", "reply_to": 1})
        await a.request({"type": "edit", "room": room, "id": "a3", "target": 1, "text": "one"})
        base = f"parley:{{{room}}}:"
        assert redis_command(redis.port, "HEXISTS", base + "st", "1") == b":1\r\n"
        assert redis_command(redis.port, "HEXISTS", base + "rq", "1") == b":1\r\n"
        for i in range(4):
            await a.request({"type": "send", "room": room, "id": f"b{i}", "text": f"m{i}"})
        # Entries 1-3 are gone (4 kept): so are the state and reply list of 1.
        assert redis_command(redis.port, "HLEN", base + "st") == b":0\r\n"
        assert redis_command(redis.port, "HLEN", base + "rq") == b":0\r\n"
        assert redis_command(redis.port, "ZCARD", base + "sx") == b":0\r\n"
        edit = await a.request({"type": "edit", "room": room, "id": "a4", "target": 1, "text": "x"})
        assert edit["type"] == "error" and edit["code"] == "not_found", edit
        await a.ws.close()
    finally:
        assert node.stop() == 0, node.stderr


def test_attachments_are_refused_unsupported(nodes):
    asyncio.run(asyncio.wait_for(attachment_refused(nodes), 30))


async def attachment_refused(nodes):
    room = unique_room("files")
    a = await Member.connect(nodes[0].port, "ann")
    assert a.limits["max_upload_bytes"] == 0, a.limits  # the client hides its attach button
    await a.join(room)
    body = b"just some text\n"
    req = urllib.request.Request(f"http://127.0.0.1:{nodes[0].port}/upload", data=body,
                                 method="POST", headers={"Authorization": f"Bearer {a.resume}"})
    try:
        await asyncio.to_thread(urllib.request.urlopen, req, timeout=T)
        raise AssertionError("an upload was taken by a node that keeps no files")
    except urllib.error.HTTPError as refused:
        assert refused.code == 501, refused.code
        assert b"keeps no files" in refused.read()
    # A file id as the SQLite engine would name it: refused, not "not found".
    file = hashlib.sha256(body).hexdigest()
    answer = await a.request({"type": "send", "room": room, "id": "f1", "text": "see",
                              "file": file, "file_name": "notes.txt"})
    assert answer["type"] == "error" and answer["code"] == "unsupported", answer
    ack = await a.request({"type": "send", "room": room, "id": "f2", "text": "still here"})
    assert ack["type"] == "ack" and ack["msg_id"] == 1
    data_dir = nodes[0].args[nodes[0].args.index("--data-dir") + 1]
    assert not os.path.exists(os.path.join(data_dir, "files")), os.listdir(data_dir)
    await a.ws.close()
