"""Presence across nodes on Redis (issue 11 item 4, docs/SCALING.md
"Presence"): two Parley nodes share a real redis-server started by the test.

- `joined` lists the members of every node, `online`/`users` and the seed's
  "当前在线N人" count every node, and `presence` events cross nodes;
- a name is unique in a room across nodes (the one-node suffix rule);
- renames reach every node;
- a node SIGKILLed: the other node's members see its users `left`, with the
  right counts, within the documented bound (10 s).
"""
import asyncio
import json
import re
import time

import websockets

from parley_server import join_notice, leave_notice, unique_room

T = 10
DEAD_NODE_BOUND = 10.0  # docs/SCALING.md: a dead node's members are `left` within 10 s
ARGS = ["--rate", "1000", "--rate-burst", "1000"]
REDIS_NODES, REDIS_NODE_PREFIX = 2, "p"  # the `nodes` fixture (conftest.py)




async def hello(port, name):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["parley.v1"],
                                  open_timeout=T, ping_interval=None)
    await ws.send(json.dumps({"type": "hello", "name": name}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), T))
    assert welcome["type"] == "welcome", welcome
    return ws, welcome["user"]


async def join(ws, room):
    await ws.send(json.dumps({"type": "join", "room": room}))
    return await expect(ws, "joined")


async def expect(ws, kind, **fields):
    """The next event of `kind` (and `fields`), skipping others."""
    while True:
        e = json.loads(await asyncio.wait_for(ws.recv(), T))
        assert e["type"] != "error", e
        if e["type"] == kind and all(e.get(k) == v for k, v in fields.items()):
            return e


async def plain_line(ws, wanted):
    while True:
        text = await asyncio.wait_for(ws.recv(), T)
        if text == wanted:
            return text


def test_members_counts_and_presence_cross_nodes(nodes):
    asyncio.run(asyncio.wait_for(members_and_counts(nodes), 60))


async def members_and_counts(nodes):
    room = unique_room("presence")
    a, ua = await hello(nodes[0].port, "ann")
    joined_a = await join(a, room)
    assert (joined_a["online"], joined_a["users"]) == (1, 1)

    b, ub = await hello(nodes[1].port, "bob")
    joined_b = await join(b, room)
    # bob's node lists ann, who is on the other node.
    assert {(m["user"], m["name"]) for m in joined_b["members"]} == {(ua, "ann"), (ub, "bob")}
    assert (joined_b["online"], joined_b["users"]) == (2, 2)
    p = await expect(a, "presence", event="joined", user=ub)
    assert (p["name"], p["online"], p["users"]) == ("bob", 2, 2)

    # Seed (plain-text) guests on both nodes: the seed's notices count the
    # connections of every node.
    seed = await websockets.connect(f"ws://127.0.0.1:{nodes[0].port}/ws/{room}",
                                    open_timeout=T, ping_interval=None)
    seed2 = await websockets.connect(f"ws://127.0.0.1:{nodes[1].port}/ws/{room}",
                                     open_timeout=T, ping_interval=None)
    await plain_line(seed, join_notice(4))
    p = await expect(b, "presence", event="joined", online=4)
    assert p["users"] == 4

    # `members` on either node pages the whole room.
    await b.send(json.dumps({"type": "members", "room": room}))
    m = await expect(b, "members")
    assert len(m["members"]) == 4 and m["online"] == 4

    await seed2.close()
    await plain_line(seed, leave_notice(3))
    p = await expect(a, "presence", event="left", online=3)
    assert p["users"] == 3

    # A rename on node 1 reaches node 0.
    await b.send(json.dumps({"type": "rename", "room": room, "name": "robert"}))
    p = await expect(a, "presence", event="renamed", user=ub)
    assert (p["name"], p["old"]) == ("robert", "bob")
    await expect(b, "presence", event="renamed", user=ub)
    for ws in (a, b, seed):
        await ws.close()


def test_names_unique_across_nodes(nodes):
    asyncio.run(asyncio.wait_for(names_unique(nodes), 60))


async def names_unique(nodes):
    room = unique_room("names")
    clients = []
    # Three "zoe"s on alternating nodes, then one renaming into a taken name.
    for i in range(3):
        ws, user = await hello(nodes[i % 2].port, "zoe")
        joined = await join(ws, room)
        clients.append((ws, user, joined["you"]))
    assert [c[2] for c in clients] == ["zoe", "zoe-2", "zoe-3"]
    # All at once from both nodes: still unique.
    racing = await asyncio.gather(*(hello(nodes[i % 2].port, "max") for i in range(6)))
    joins = await asyncio.gather(*(join(ws, room) for ws, _ in racing))
    names = [j["you"] for j in joins]
    assert sorted(names) == sorted(["max"] + [f"max-{k}" for k in range(2, 7)]), names
    ws, user, _ = clients[2]
    await ws.send(json.dumps({"type": "rename", "room": room, "name": "zoe"}))
    p = await expect(ws, "presence", event="renamed", user=user)
    assert p["name"] == "zoe-4"  # the suffix rule goes on, as on one node
    # The first zoe leaves: her name is free again for anyone, on any node.
    await clients[0][0].close()
    await expect(clients[1][0], "presence", event="left", user=clients[0][1])
    ws2, _ = await hello(nodes[1].port, "zoe")
    assert (await join(ws2, room))["you"] == "zoe"
    for c in clients[1:]:
        await c[0].close()
    for c, _ in racing:
        await c.close()
    await ws2.close()


def test_dead_node_members_leave_within_bound(redis, nodes):
    asyncio.run(asyncio.wait_for(dead_node(nodes), 60))


async def dead_node(nodes):
    room = unique_room("dead")
    a, ua = await hello(nodes[0].port, "ann")
    await join(a, room)
    seed = await websockets.connect(f"ws://127.0.0.1:{nodes[0].port}/ws/{room}",
                                    open_timeout=T, ping_interval=None)
    await expect(a, "presence", event="joined", online=2)
    b, ub = await hello(nodes[1].port, "bob")
    await join(b, room)
    c, uc = await hello(nodes[1].port, "cid")
    await join(c, room)
    await plain_line(seed, join_notice(4))
    await expect(a, "presence", event="joined", user=uc)

    nodes[1].kill()
    killed = time.monotonic()
    left = set()
    last = None
    while left != {ub, uc}:
        remaining = DEAD_NODE_BOUND - (time.monotonic() - killed)
        assert remaining > 0, f"only {left} reported left within {DEAD_NODE_BOUND} s"
        e = json.loads(await asyncio.wait_for(a.recv(), remaining))
        if e["type"] == "presence" and e["event"] == "left":
            left.add(e["user"])
            last = e
    assert (last["online"], last["users"]) == (2, 2)  # ann and the seed's guest
    # The seed counts only the living too.
    await plain_line(seed, leave_notice(2))
    # A newcomer on the living node sees exactly who is there.
    d, ud = await hello(nodes[0].port, "bob")
    joined = await join(d, room)
    users = {m["user"] for m in joined["members"]}
    assert {ua, ud} <= users and not {ub, uc} & users and len(users) == 3, joined["members"]
    assert joined["you"] == "bob"  # the dead node's bob gave the name back
    assert (joined["online"], joined["users"]) == (3, 3)
    for ws in (a, seed, d):
        await ws.close()


def test_guest_numbers_unique_across_nodes(nodes):
    asyncio.run(asyncio.wait_for(guest_numbers(nodes), 60))


async def guest_numbers(nodes):
    room = unique_room("guests")
    a, _ = await hello(nodes[0].port, "ann")
    await join(a, room)
    seeds = []
    names = []
    for i in range(6):
        seeds.append(await websockets.connect(f"ws://127.0.0.1:{nodes[i % 2].port}/ws/{room}",
                                              open_timeout=T, ping_interval=None))
        names.append((await expect(a, "presence", event="joined", online=i + 2))["name"])
    # Numbered by the cluster: no two alike, so no suffix was needed.
    assert len(set(names)) == 6, names
    assert all(re.fullmatch(r"guest-\d+", n) for n in names), names
    for ws in seeds + [a]:
        await ws.close()
