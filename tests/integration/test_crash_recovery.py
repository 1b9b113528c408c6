"""Crash and reconnect without loss (docs/PROTOCOL.md, "No-loss delivery"),
with Debian's python3-websockets as the client.

Three clients, each its own user with a resume token, send a stream of
messages with increasing client ids into one room and record the acks. After
some acks the server is killed with SIGKILL, mid-stream, and restarted on the
same port and data directory. Each client follows the document's recipe:
hello with its resume token, join with `since` = the last msg_id it has,
`history after` while truncated, resend its outbox (unacked messages, same
ids) and carry on sending. Then:

- every message acknowledged, before or after the crash, is in history
  exactly once (by user and client id), with the msg_id of its ack;
- history holds nothing else, and its ids are 1..M without gaps;
- every client's view (live messages, its own acks, joined histories) is
  that same sequence, received in increasing msg_id order, each id once.
"""
import asyncio
import json
import random
import shutil
import signal
import tempfile

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from parley_server import ParleyServer, unique_room

T = 10  # seconds for any single wait
CLIENTS = 3
PER_CLIENT = 60  # messages each client sends in all
KILL_AT = (50, 110)  # the server is killed after the burst that brings the messages sent to this many
BURST = 4  # messages a client sends back to back
SEND_INTERVAL = 0.02  # seconds between two bursts of one client
ARGS = ["--rate", "1000", "--rate-burst", "1000"]


class Client:
    """One user: connection, outbox, acks and everything it has seen."""

    def __init__(self, k, room, state, resend_settled=False):
        self.k = k
        self.name = f"c{k}"
        self.room = room
        self.state = state  # shared asyncio.Condition, notified on progress
        # The naive client resends even what joined.history already settled,
        # so the duplicate ack path is exercised.
        self.resend_settled = resend_settled
        self.user = None
        self.resume = None
        self.next_i = 0
        self.all_sent = {}  # id -> text, every message ever sent
        self.settled_by_history = set()  # this connection's
        self.settled = set()  # ids settled by a joined history, all connections
        self.joined_last_id = None
        self.outbox = {}  # id -> text, in sending order
        self.acks = {}  # id -> ack event (first non-duplicate, or the duplicate)
        self.duplicate_acks = []
        self.view = {}  # msg_id -> (user, id, text)
        self.arrivals = []  # msg_ids in arrival order (duplicate acks excluded)
        self.seen_twice = []  # msg_ids that arrived again
        self.errors = []
        self.ws = None
        self.reader = None
        self.connected = asyncio.Event()
        self.waiters = {}  # event type -> future
        self.connections = 0

    @property
    def last_id(self):
        return max(self.view, default=0)

    def _see(self, m, source):
        key = (m["user"], m["id"], m["text"])
        mid = m["msg_id"]
        if mid in self.view:
            assert self.view[mid] == key, f"{self.name}: msg {mid} was {self.view[mid]}, now {key} ({source})"
            self.seen_twice.append((mid, source))
            return
        self.view[mid] = key
        self.arrivals.append(mid)
        if m["user"] == self.user and m["id"] in self.outbox:
            # Our own message, stored before the crash: settled (PROTOCOL.md).
            self.settled_by_history.add(m["id"])

    async def _read(self, ws):
        try:
            async for raw in ws:
                e = json.loads(raw)
                t = e["type"]
                if t == "ack":
                    text = self.outbox.pop(e["id"], None)
                    if e["duplicate"]:
                        self.duplicate_acks.append(e)
                        assert e["id"] in self.all_sent, f"{self.name}: duplicate ack for unknown id {e}"
                        if e["msg_id"] not in self.view:
                            self.view[e["msg_id"]] = (self.user, e["id"], self.all_sent[e["id"]])
                    else:
                        assert text is not None or e["id"] in self.all_sent, f"{self.name}: ack for unknown id {e}"
                        self._see({"user": self.user, "id": e["id"], "text": self.all_sent[e["id"]],
                                   "msg_id": e["msg_id"]}, "ack")
                    self.acks.setdefault(e["id"], e)
                elif t == "message":
                    self._see(e, "live")
                elif t == "joined":
                    for m in e["history"]:
                        self._see(m, "joined")
                    self._resolve("joined", e)
                elif t == "history":
                    for m in e["messages"]:
                        self._see(m, "history")
                    self._resolve("history", e)
                elif t == "welcome":
                    self._resolve("welcome", e)
                elif t == "error":
                    self.errors.append(e)
                    self._resolve("error", e)
                async with self.state:
                    self.state.notify_all()
        except ConnectionClosed:
            pass
        except AssertionError as err:  # surfaced by the waits and the final checks
            self.errors.append(f"reader: {err}")
            raise
        finally:
            self.connected.clear()
            for f in self.waiters.values():
                if not f.done():
                    f.set_exception(ConnectionError(f"{self.name}: connection lost"))

    def _resolve(self, kind, e):
        f = self.waiters.pop(kind, None)
        if f is not None and not f.done():
            f.set_result(e)

    async def _request(self, kind, message):
        f = asyncio.get_running_loop().create_future()
        self.waiters[kind] = f
        await self.ws.send(json.dumps(message))
        return await asyncio.wait_for(f, T)

    async def connect(self, url):
        """hello (with resume), join since the last id, page forward, resend the outbox."""
        self.settled_by_history = set()
        self.ws = await websockets.connect(url, subprotocols=["parley.v1"], open_timeout=T,
                                           close_timeout=1, ping_interval=None, max_size=None)
        assert self.ws.subprotocol == "parley.v1"
        self.connections += 1
        self.reader = asyncio.create_task(self._read(self.ws))
        hello = {"type": "hello", "name": self.name}
        if self.resume:
            hello["resume"] = self.resume
        w = await self._request("welcome", hello)
        if self.user is not None:
            assert w["user"] == self.user, f"{self.name}: resume gave user {w['user']}, was {self.user}"
        self.user, self.resume = w["user"], w["resume"]
        join = {"type": "join", "room": self.room}
        if self.connections > 1:
            join["since"] = self.last_id
        since = join.get("since")
        j = await self._request("joined", join)
        assert j["type"] == "joined", j
        self.joined_last_id = j["last_id"]
        if since is not None:
            ids = [m["msg_id"] for m in j["history"]]
            assert all(i > since for i in ids) and ids == sorted(ids), f"{self.name}: joined since {since}: {ids}"
        truncated = j["truncated"]
        while truncated:
            h = await self._request("history", {"type": "history", "room": self.room, "after": self.last_id})
            truncated = h["truncated"]
        # Outbox: what joined.history settled is done (unless this client is
        # the naive one); the rest is resent in order with the same ids.
        self.settled |= self.settled_by_history
        for cid in list(self.outbox):
            if cid in self.settled_by_history and not self.resend_settled:
                del self.outbox[cid]
        for cid, text in list(self.outbox.items()):
            await self.ws.send(json.dumps({"type": "send", "room": self.room, "id": cid, "text": text}))
        self.connected.set()

    async def sender(self, burst_sent=None):
        while self.next_i < PER_CLIENT:
            await asyncio.wait_for(self.connected.wait(), 3 * T)
            for _ in range(min(BURST, PER_CLIENT - self.next_i)):
                cid = f"{self.name}-{self.next_i}"
                text = f"message {self.next_i} of {self.name}"
                self.next_i += 1
                self.all_sent[cid] = text
                self.outbox[cid] = text  # before sending: a failed send stays pending
                try:
                    await self.ws.send(json.dumps({"type": "send", "room": self.room, "id": cid, "text": text}))
                except ConnectionClosed:
                    pass
            if burst_sent is not None:
                burst_sent.set()
            await asyncio.sleep(SEND_INTERVAL)  # pacing: a modest rate, not a wait for an event


async def until(state, predicate, what, timeout=3 * T, detail=lambda: ""):
    async with state:
        try:
            await asyncio.wait_for(state.wait_for(predicate), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; {detail()}") from None


def reader_failures(clients):
    return [e for c in clients for e in c.errors if isinstance(e, str)]


async def read_all_history(url, room):
    """Every message of the room, paging `history after` as a new user."""
    async with websockets.connect(url, subprotocols=["parley.v1"], open_timeout=T, ping_interval=None) as ws:
        async def expect(kind):
            while True:
                e = json.loads(await asyncio.wait_for(ws.recv(), T))
                if e["type"] == kind:
                    return e
                assert e["type"] not in ("error",), e
        await ws.send(json.dumps({"type": "hello", "name": "auditor"}))
        await expect("welcome")
        await ws.send(json.dumps({"type": "join", "room": room, "since": 0}))
        j = await expect("joined")
        out = list(j["history"])
        truncated = j["truncated"]
        while truncated:
            await ws.send(json.dumps({"type": "history", "room": room, "after": out[-1]["msg_id"], "limit": 200}))
            h = await expect("history")
            out += h["messages"]
            truncated = h["truncated"]
        return out, j["last_id"]


async def scenario(data_dir, threads, seed):
    rng = random.Random(seed)
    room = unique_room("crash")
    state = asyncio.Condition()
    server = ParleyServer(["--data-dir", data_dir, "--threads", threads, *ARGS])
    port = server.port
    url = f"ws://127.0.0.1:{port}/ws"
    clients = [Client(k, room, state, resend_settled=(k == 0)) for k in range(CLIENTS)]
    try:
        for c in clients:
            await c.connect(url)
        burst_sent = asyncio.Event()
        senders = [asyncio.create_task(c.sender(burst_sent)) for c in clients]

        def sent():
            return sum(c.next_i for c in clients)

        acked_before = {}  # (user, id) -> msg_id, acked before a crash
        crashes = []  # (unacked keys at the crash, last id after the restart)
        for threshold in KILL_AT:
            # Kill right after a burst went out, at a varying instant, so that some
            # messages are unread, some read but not stored, some stored but not acked.
            while sent() < threshold:
                burst_sent.clear()
                await asyncio.wait_for(burst_sent.wait(), T)
            await asyncio.sleep(rng.uniform(0, 0.003))
            server.proc.send_signal(signal.SIGKILL)
            assert server.proc.wait(T) == -signal.SIGKILL
            await asyncio.wait_for(asyncio.gather(*(c.reader for c in clients), return_exceptions=True), T)
            assert not reader_failures(clients), reader_failures(clients)
            acked_before.update({(c.user, cid): e["msg_id"] for c in clients for cid, e in c.acks.items()})
            pending = {(c.user, cid) for c in clients for cid in c.outbox}
            assert sum(c.next_i for c in clients) < CLIENTS * PER_CLIENT, "the crash must come mid-stream"

            server = ParleyServer(["--data-dir", data_dir, "--threads", threads, *ARGS], port=port)
            for c in clients:
                await c.connect(url)
            crashes.append((pending, min(c.joined_last_id for c in clients)))
        await asyncio.wait_for(asyncio.gather(*senders), 6 * T)
        await until(state, lambda: all(not c.outbox for c in clients), "every message to be acked",
                    detail=lambda: f"outboxes {[list(c.outbox) for c in clients]}")
        top = max(e["msg_id"] for c in clients for e in c.acks.values())
        await until(state, lambda: all(c.last_id >= top and len(c.view) >= top for c in clients),
                    f"every client to see msg_id {top}",
                    detail=lambda: "; ".join(f"{c.name} lacks {sorted(set(range(1, top + 1)) - set(c.view))}, "
                                             f"connections {c.connections}, joined last_id {c.joined_last_id}, "
                                             f"arrivals {c.arrivals[-15:]}" for c in clients))

        history, last_id = await read_all_history(url, room)
    finally:
        for c in clients:
            if c.ws is not None:
                await c.ws.close()
        if server.proc.poll() is None:
            code = server.stop()
            assert code == 0, f"parley exited with {code}\n{server.stderr}"

    stored = verify_outcome(clients, history, last_id, acked_before)
    stats = [(len(pending), sum(1 for key in pending if stored[key]["msg_id"] <= last)) for pending, last in crashes]
    return stats, sum(len(c.duplicate_acks) for c in clients)


def verify_outcome(clients, history, last_id, acked_before):
    """The no-loss contract, checked after a run: history holds exactly the
    acknowledged (or settled) messages once each with ids 1..M, and every
    client saw that same sequence in order, each id once."""
    # -- history: exactly the acknowledged messages, once each, ids 1..M --
    ids = [m["msg_id"] for m in history]
    assert ids == list(range(1, len(ids) + 1)), f"msg_ids are not 1..M: {ids}"
    assert last_id == len(ids)
    keys = [(m["user"], m["id"]) for m in history]
    dups = {k for k in keys if keys.count(k) > 1}
    assert not dups, f"stored more than once: {sorted(dups)}"
    stored = {(m["user"], m["id"]): m for m in history}
    acked = {(c.user, cid): e for c in clients for cid, e in c.acks.items()}
    settled = {(c.user, cid) for c in clients for cid in c.settled}
    sent = {(c.user, cid) for c in clients for cid in c.all_sent}
    assert len(sent) == len(clients) * PER_CLIENT
    assert set(acked) | settled == sent, f"neither acked nor settled: {sent - set(acked) - settled}"
    for key, e in acked.items():
        assert key in stored, f"acknowledged but not in history: {key} {e}"
        assert stored[key]["msg_id"] == e["msg_id"], f"{key}: ack said {e['msg_id']}, history {stored[key]['msg_id']}"
    for key, msg_id in acked_before.items():
        assert stored[key]["msg_id"] == msg_id, f"acked before the crash as {msg_id}: {stored[key]}"
    assert set(stored) == sent, f"in history but never sent: {set(stored) - sent}"
    for c in clients:
        for cid, text in c.all_sent.items():
            assert stored[(c.user, cid)]["text"] == text
        # Each sender's messages are stored in its sending order.
        mine = [int(m["id"].rsplit("-", 1)[1]) for m in history if m["user"] == c.user]
        assert mine == sorted(mine), f"{c.name}: stored out of order: {mine}"
    for d in (e for c in clients for e in c.duplicate_acks):
        owner = next(c for c in clients if d["id"] in c.all_sent)
        assert stored[(owner.user, d["id"])]["msg_id"] == d["msg_id"], f"duplicate ack with another msg_id: {d}"

    # -- every client: the same gap-free sequence, in order, each id once --
    want = {m["msg_id"]: (m["user"], m["id"], m["text"]) for m in history}
    for c in clients:
        assert c.view == want, f"{c.name}: view differs from history: missing {sorted(set(want) - set(c.view))}"
        assert c.arrivals == sorted(c.arrivals), f"{c.name}: arrived out of order: {c.arrivals}"
        assert sorted(c.arrivals) == sorted(set(c.arrivals))
        live_twice = [x for x in c.seen_twice if x[1] != "history"]
        assert not live_twice, f"{c.name}: messages delivered twice: {live_twice}"
        assert not c.errors, f"{c.name}: errors: {c.errors}"
    return stored


@pytest.mark.parametrize("threads,seed", [(1, 1), (2, 2), (2, 3)])
def test_sigkill_mid_stream_loses_and_duplicates_nothing(threads, seed):
    data_dir = tempfile.mkdtemp(prefix="parley-crash-")
    try:
        stats, duplicates = asyncio.run(asyncio.wait_for(scenario(data_dir, threads, seed), 120))
        # Shown with -s: how much of the interesting path a run exercised.
        print(f"threads={threads}: unacked at each crash (of them stored before it): {stats}, "
              f"{duplicates} duplicate acks")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
