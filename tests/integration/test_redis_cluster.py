"""Scale-out on Redis (issue 11, docs/SCALING.md): three Parley nodes share a
real redis-server (AOF, appendfsync always) started by the test.

- Cross-node chat in both protocols: every member on every node receives
  every message in the same msg_id order, each once.
- A node SIGKILLed mid-stream: its clients reconnect to another node with
  their resume tokens and recover exactly (the crash test's contract).
- Every node answers history pages (newest, before, after, around), search
  and `since` identically; a resume token of one node is valid on another.
- Redis SIGKILLed mid-stream and restarted from its AOF: sends meanwhile are
  answered `unavailable` (plain text: the seed-style notice), connections
  stay open, and once Redis is back nothing acknowledged is lost or doubled.
- Edits, deletes, reactions and replies across nodes: test_redis_log.py.
"""
import asyncio
import json
import random
import signal

import pytest
import websockets

import test_crash_recovery as crash
from parley_server import unique_room

T = 10
UNAVAILABLE_NOTICE = "系统通知: 服务暂时不可用,消息未发送"
ARGS = ["--rate", "1000", "--rate-burst", "1000"]
REDIS_NODES, REDIS_NODE_PREFIX = 3, "n"  # the `nodes` fixture (conftest.py)




# --- cross-node chat ---------------------------------------------------------------

async def json_member(port, room, name):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["parley.v1"],
                                  open_timeout=T, ping_interval=None)
    await ws.send(json.dumps({"type": "hello", "name": name}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), T))
    await ws.send(json.dumps({"type": "join", "room": room}))
    while True:
        e = json.loads(await asyncio.wait_for(ws.recv(), T))
        if e["type"] == "joined":
            return ws, welcome["user"]


async def plain_member(port, room):
    return await websockets.connect(f"ws://127.0.0.1:{port}/ws/{room}", open_timeout=T,
                                    ping_interval=None)


def test_cross_node_chat_same_order_everywhere(nodes):
    asyncio.run(asyncio.wait_for(cross_node_chat(nodes), 60))


async def cross_node_chat(nodes):
    room = unique_room("cluster")
    per_json, per_plain = 15, 10
    jsons = [await json_member(n.port, room, f"j{i}") for i, n in enumerate(nodes)]
    plains = [await plain_member(n.port, room) for n in nodes]
    total = per_json * len(jsons) + per_plain

    async def send_json(i, ws):
        for k in range(per_json):
            await ws.send(json.dumps({"type": "send", "room": room, "id": f"{i}-{k}",
                                      "text": f"j{i} says {k}"}))
            await asyncio.sleep(random.uniform(0, 0.004))

    async def send_plain(ws):
        for k in range(per_plain):
            await ws.send(f"plain says {k}")
            await asyncio.sleep(random.uniform(0, 0.004))

    async def read_json(ws):
        seen = {}  # msg_id -> (user, text), from acks and messages
        order = []
        while len(seen) < total:
            e = json.loads(await asyncio.wait_for(ws.recv(), T))
            if e["type"] == "message":
                mid = e["msg_id"]
                assert mid not in seen, f"msg {mid} twice"
                seen[mid] = e["text"]
                order.append(mid)
            elif e["type"] == "ack":
                assert not e["duplicate"]
                mid = e["msg_id"]
                assert mid not in seen, f"ack of {mid} after its message"
                seen[mid] = None  # filled from the history below
                order.append(mid)
            assert e["type"] != "error", e
        return order

    async def read_plain(ws, own):
        lines = []
        while len(lines) < total - own:
            text = await asyncio.wait_for(ws.recv(), T)
            if not text.startswith("系统通知"):
                lines.append(text)
        return lines

    readers = [asyncio.create_task(read_json(ws)) for ws, _ in jsons]
    plain_readers = [asyncio.create_task(read_plain(ws, per_plain if i == 0 else 0))
                     for i, ws in enumerate(plains)]
    await asyncio.gather(*(send_json(i, ws) for i, (ws, _) in enumerate(jsons)), send_plain(plains[0]))
    orders = await asyncio.gather(*readers)
    plain_views = await asyncio.gather(*plain_readers)

    history, last_id = await crash.read_all_history(f"ws://127.0.0.1:{nodes[1].port}/ws", room)
    assert [m["msg_id"] for m in history] == list(range(1, total + 1))
    assert last_id == total
    for order in orders:
        assert order == list(range(1, total + 1)), f"not in msg_id order: {order}"
    # Plain-text members: the same sequence, a JSON sender's words as "name: text".
    names = {user: f"j{i}" for i, (_, user) in enumerate(jsons)}
    shown = [f"{names[m['user']]}: {m['text']}" if m["user"] in names else m["text"] for m in history]
    own = [m["text"] for m in history if m["user"] not in names]
    assert plain_views[0] == [s for s, m in zip(shown, history) if m["user"] in names]
    for view in plain_views[1:]:
        assert view == shown, "plain-text members see another order"
    assert own == [f"plain says {k}" for k in range(per_plain)]
    for ws, _ in jsons:
        await ws.close()
    for ws in plains:
        await ws.close()
    await same_reads_on_every_node(nodes, room, total)


async def expect(ws, kind):
    while True:
        e = json.loads(await asyncio.wait_for(ws.recv(), T))
        if e["type"] == kind:
            return e
        assert e["type"] != "error", e


async def reads_on(port, room, total):
    """The answers of one node to every kind of read, as a new member."""
    ws, _ = await json_member(port, room, "reader")
    answers = []
    queries = [{"before": total - 5, "limit": 7}, {"after": 3, "limit": 9}, {"around": total // 2, "limit": 6},
               {"around": 1, "limit": 4}, {"around": total, "limit": 5}, {"before": 2}, {"after": total}]
    for q in queries:
        await ws.send(json.dumps({"type": "history", "room": room, **q}))
        answers.append(await expect(ws, "history"))
    for q in [{"query": "SAYS 1"}, {"query": "j2 says", "limit": 3}, {"query": "says", "before": 10, "limit": 4}]:
        await ws.send(json.dumps({"type": "search", "room": room, **q}))
        answers.append(await expect(ws, "search_results"))
    await ws.send(json.dumps({"type": "leave", "room": room}))
    await expect(ws, "left")
    await ws.send(json.dumps({"type": "join", "room": room, "since": total - 4}))
    joined = await expect(ws, "joined")
    answers.append((joined["history"], joined["truncated"], joined["last_id"]))
    await ws.close()
    return answers


async def same_reads_on_every_node(nodes, room, total):
    views = [await reads_on(n.port, room, total) for n in nodes]
    before, after, around, first, last, none, end = views[0][:7]
    assert [m["msg_id"] for m in before["messages"]] == list(range(total - 12, total - 5))
    assert before["truncated"]
    assert [m["msg_id"] for m in after["messages"]] == list(range(4, 13)) and after["truncated"]
    mid = total // 2
    assert [m["msg_id"] for m in around["messages"]] == list(range(mid - 2, mid + 4))
    assert around["truncated"] and around["newer"]
    assert [m["msg_id"] for m in first["messages"]] == [1, 2, 3] and not first["truncated"]
    assert [m["msg_id"] for m in last["messages"]] == [total - 2, total - 1, total]
    assert not last["newer"]
    assert [m["msg_id"] for m in none["messages"]] == [1] and not none["truncated"]
    assert end["messages"] == [] and not end["truncated"]
    found = views[0][7]
    assert found["messages"] and all("says 1" in m["text"] for m in found["messages"])
    ids = [m["msg_id"] for m in found["messages"]]
    assert ids == sorted(ids, reverse=True)
    paged = views[0][9]
    assert [m["msg_id"] for m in paged["messages"]] == [9, 8, 7, 6] and paged["truncated"]
    since = views[0][10]
    assert [m["msg_id"] for m in since[0]] == list(range(total - 3, total + 1)) and not since[1]
    for view in views[1:]:
        assert view == views[0], "nodes answer the same read differently"


def test_resume_token_of_one_node_is_valid_on_another(nodes):
    asyncio.run(asyncio.wait_for(resume_elsewhere(nodes), 30))


async def resume_elsewhere(nodes):
    async with websockets.connect(f"ws://127.0.0.1:{nodes[0].port}/ws", subprotocols=["parley.v1"],
                                  open_timeout=T, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "hello", "name": "wanderer"}))
        first = await expect(ws, "welcome")
    async with websockets.connect(f"ws://127.0.0.1:{nodes[2].port}/ws", subprotocols=["parley.v1"],
                                  open_timeout=T, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "hello", "name": "wanderer", "resume": first["resume"]}))
        again = await expect(ws, "welcome")
    assert again["user"] == first["user"]


# --- faults ------------------------------------------------------------------------

class Client(crash.Client):
    """The crash test's client, plus what a cluster adds: an `unavailable`
    answer to a send means "not acknowledged". The client then stops sending,
    and probes: a moment later it resends the oldest message of its outbox
    alone; once that one is acked, it resends the rest in order (same ids)
    and carries on. (Resending everything at once could store a later
    message before an earlier one if the engine came back mid-burst.)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unavailable = 0
        self.paused = False
        self.own_after_ack = set()

    def _see(self, m, source):
        # A message stored while its send was answered `unavailable` (the
        # reply was lost with the connection to Redis) reaches its sender as
        # a `message` like anyone else's, and its resend gets a duplicate ack,
        # in either order (PROTOCOL.md, "Several nodes"): the ack is not a
        # delivery, so the message once after it is not a repeat.
        mid = m["msg_id"]
        if (source == "live" and m["user"] == self.user and mid in self.view
                and mid not in self.arrivals and mid not in self.own_after_ack):
            self.own_after_ack.add(mid)
            return
        super()._see(m, source)

    def _resolve(self, kind, e):
        if kind == "error" and e.get("code") == "unavailable" and e.get("id"):
            self.errors.remove(e)
            self.unavailable += 1
            if not self.paused:
                self.paused = True
                self.connected.clear()  # the sender waits
                asyncio.get_running_loop().call_later(0.3, lambda: asyncio.ensure_future(self._probe()))
            return
        super()._resolve(kind, e)

    async def _probe(self):
        try:
            while self.outbox:
                cid, text = next(iter(self.outbox.items()))
                failures = self.unavailable
                await self.ws.send(json.dumps({"type": "send", "room": self.room, "id": cid, "text": text}))
                async with self.state:
                    await asyncio.wait_for(self.state.wait_for(
                        lambda: cid not in self.outbox or self.unavailable > failures), T)
                if cid not in self.outbox:
                    break
                await asyncio.sleep(0.3)  # still unavailable: probe again a moment later
            for cid, text in list(self.outbox.items()):
                await self.ws.send(json.dumps({"type": "send", "room": self.room, "id": cid, "text": text}))
        except websockets.exceptions.ConnectionClosed:
            return
        self.paused = False
        self.connected.set()


async def settle_and_check(clients, state, url, room, acked_before):
    await crash.until(state, lambda: all(not c.outbox for c in clients), "every message to be acked",
                      detail=lambda: f"outboxes {[list(c.outbox) for c in clients]}")
    top = max(e["msg_id"] for c in clients for e in c.acks.values())
    await crash.until(state, lambda: all(c.last_id >= top and len(c.view) >= top for c in clients),
                      f"every client to see msg_id {top}",
                      detail=lambda: "; ".join(f"{c.name} lacks {sorted(set(range(1, top + 1)) - set(c.view))}"
                                               for c in clients))
    history, last_id = await crash.read_all_history(url, room)
    crash.verify_outcome(clients, history, last_id, acked_before)


async def wait_sent(clients, burst_sent, threshold):
    while sum(c.next_i for c in clients) < threshold:
        burst_sent.clear()
        await asyncio.wait_for(burst_sent.wait(), T)


async def node_kill_scenario(nodes, seed):
    rng = random.Random(seed)
    room = unique_room("nodekill")
    state = asyncio.Condition()
    urls = [f"ws://127.0.0.1:{n.port}/ws" for n in nodes]
    clients = [Client(k, room, state, resend_settled=(k == 0)) for k in range(3)]
    home = {c.k: c.k for c in clients}  # client -> node index
    for c in clients:
        await c.connect(urls[home[c.k]])
    burst_sent = asyncio.Event()
    senders = [asyncio.create_task(c.sender(burst_sent)) for c in clients]
    acked_before = {}
    for victim, threshold in ((0, 50), (1, 110)):
        await wait_sent(clients, burst_sent, threshold)
        await asyncio.sleep(rng.uniform(0, 0.003))
        nodes[victim].proc.send_signal(signal.SIGKILL)
        assert nodes[victim].proc.wait(T) == -signal.SIGKILL
        moved = [c for c in clients if home[c.k] == victim]
        await asyncio.wait_for(asyncio.gather(*(c.reader for c in moved), return_exceptions=True), T)
        acked_before.update({(c.user, cid): e["msg_id"] for c in clients for cid, e in c.acks.items()})
        survivor = 2  # never killed
        for c in moved:  # through the "balancer": another node, resume token and since
            home[c.k] = survivor
            await c.connect(urls[survivor])
    await asyncio.wait_for(asyncio.gather(*senders), 6 * T)
    await settle_and_check(clients, state, urls[2], room, acked_before)
    for c in clients:
        await c.ws.close()
    assert all(c.connections == (2 if c.k in (0, 1) else 1) for c in clients)


@pytest.mark.parametrize("seed", [1, 2])
def test_node_sigkill_mid_stream_loses_and_duplicates_nothing(nodes, seed):
    asyncio.run(asyncio.wait_for(node_kill_scenario(nodes, seed), 120))


async def redis_restart_scenario(nodes, redis, seed):
    rng = random.Random(seed)
    room = unique_room("redisrestart")
    state = asyncio.Condition()
    urls = [f"ws://127.0.0.1:{n.port}/ws" for n in nodes]
    clients = [Client(k, room, state) for k in range(3)]
    for c in clients:
        await c.connect(urls[c.k])
    plain = await plain_member(nodes[1].port, room)
    burst_sent = asyncio.Event()
    senders = [asyncio.create_task(c.sender(burst_sent)) for c in clients]
    await wait_sent(clients, burst_sent, 60)
    await asyncio.sleep(rng.uniform(0, 0.003))
    redis.kill()
    acked_before = {(c.user, cid): e["msg_id"] for c in clients for cid, e in c.acks.items()}
    # Down: sends are answered `unavailable`, and every connection stays open.
    await crash.until(state, lambda: sum(c.unavailable for c in clients) >= 3, "unavailable answers")
    assert all(c.ws.state is websockets.protocol.State.OPEN for c in clients)
    # A seed client gets a notice in the seed's style instead of silence.
    await plain.send("anyone there?")
    while await asyncio.wait_for(plain.recv(), T) != UNAVAILABLE_NOTICE:
        pass
    redis.restart()
    await asyncio.wait_for(asyncio.gather(*senders), 6 * T)
    await settle_and_check(clients, state, urls[0], room, acked_before)
    assert all(c.connections == 1 for c in clients), "a connection was dropped"
    assert plain.state is websockets.protocol.State.OPEN
    await plain.close()
    for c in clients:
        await c.ws.close()


def test_redis_restart_with_aof_loses_and_duplicates_nothing(nodes, redis):
    asyncio.run(asyncio.wait_for(redis_restart_scenario(nodes, redis, 3), 120))
