"""The history store's failures as an operator sees them (issue 7): a write
that fails (the file system refuses to grow the database: a file size limit,
RLIMIT_FSIZE, stands in for a full disk, and works the same as root) and a
database file deleted while the server runs. In both cases:

- a message sent is answered with an error and never acknowledged;
- GET /healthz answers 503 with the reason, and GET /metrics shows the
  history unhealthy and the store's counters;
- the server logs the failure (stderr).

Clients: Debian's python3-websockets; HTTP by raw socket.
"""
import asyncio
import json
import os
import resource
import shutil
import signal
import tempfile
import time

import websockets

from parley_server import ParleyServer, get, unique_room

T = 10  # seconds for any single wait
# /metrics is not public by default (docs/SECURITY.md "Metrics protection"):
# these servers take a token file and metrics() presents the token.
METRICS_TOKEN = "store-health-metrics-token"
_token_dir = tempfile.mkdtemp(prefix="parley-metrics-")
with open(os.path.join(_token_dir, "token"), "w") as _f:
    _f.write(METRICS_TOKEN)
FAST = ["--rate", "100000", "--rate-burst", "100000", "--history", "sqlite",
        "--metrics-token-file", os.path.join(_token_dir, "token")]
FSIZE_LIMIT = 2 << 20  # bytes any file of the server may grow to


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def limit_file_size():
    # In the child before exec: past the limit write(2) fails with EFBIG instead of the process
    # being killed by SIGXFSZ (an ignored signal stays ignored across exec).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


async def open_json(server, room):
    ws = await websockets.connect(
        server.url("/ws"), subprotocols=["parley.v1"], open_timeout=T, ping_interval=None, max_size=None
    )
    await ws.send(json.dumps({"type": "hello", "name": "ann"}))
    await ws.send(json.dumps({"type": "join", "room": room}))
    while json.loads(await asyncio.wait_for(ws.recv(), T)).get("type") != "joined":
        pass
    return ws


async def answer(ws, client_id):
    """The ack or the error answering the send with `client_id`."""
    while True:
        e = json.loads(await asyncio.wait_for(ws.recv(), T))
        if e.get("type") in ("ack", "error") and e.get("id") == client_id:
            return e


def metrics(server):
    values = {}
    answer = get(server.port, "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    for line in answer.body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split(" ")
            values[name] = int(value)
    return values


def wait_unhealthy(server):
    deadline = time.monotonic() + T
    while time.monotonic() < deadline:
        r = get(server.port, "/healthz")
        if r.status == 503:
            return json.loads(r.body)
        time.sleep(0.05)
    raise AssertionError(f"/healthz stayed {r.status}: {r.body!r}")


def test_a_failing_write_is_not_acked_and_makes_the_server_unhealthy():
    data = tempfile.mkdtemp(prefix="parley-health-")
    server = ParleyServer(["--data-dir", data, *FAST], preexec_fn=limit_file_size)
    try:
        assert get(server.port, "/healthz").status == 200
        before = metrics(server)
        assert before["parley_history_healthy"] == 1
        assert "parley_store_database_bytes" in before and "parley_store_pending_appends" in before
        room = unique_room("full")
        text = "x" * 3900

        async def scenario():
            ws = await open_json(server, room)
            acked = 0
            for i in range(4000):  # about 4 KiB each: the limit is reached long before
                await ws.send(json.dumps({"type": "send", "room": room, "id": f"m{i}", "text": text}))
                e = await answer(ws, f"m{i}")
                if e["type"] == "error":
                    return acked, e
                acked += 1
            raise AssertionError("every send was acknowledged past the file size limit")

        acked, error = run(scenario())
        assert acked > 10, "the first messages fit under the limit"
        assert error["code"] == "internal", error
        assert "history store: write failed" in server.stderr

        # Unhealthy from a failed write until a write succeeds: a checkpoint may free room in
        # the files and a small write (the writer's own bookkeeping, a send) fit again, as on a
        # nearly full disk. So sends go on, and /healthz is asked at once after one fails.
        async def until_unhealthy():
            ws = await open_json(server, room)
            for i in range(200):
                await ws.send(json.dumps({"type": "send", "room": room, "id": f"late{i}", "text": text}))
                e = await answer(ws, f"late{i}")
                if e["type"] == "ack":
                    continue
                assert e["code"] == "internal", e
                r = await asyncio.get_running_loop().run_in_executor(None, get, server.port, "/healthz")
                if r.status == 503:
                    return json.loads(r.body)
            raise AssertionError("/healthz never answered 503 after a send failed")

        health = run(until_unhealthy())
        assert health["status"] == "unavailable" and "write failed" in health["reason"], health
        after = metrics(server)
        assert after["parley_store_append_errors_total"] >= 2
        assert after["parley_store_appends_committed_total"] >= acked
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_a_deleted_database_is_reported_and_sends_are_refused():
    data = tempfile.mkdtemp(prefix="parley-health-")
    server = ParleyServer(["--data-dir", data, *FAST])
    try:
        room = unique_room("gone")

        async def send(ws, client_id):
            await ws.send(json.dumps({"type": "send", "room": room, "id": client_id, "text": "hi"}))
            return await answer(ws, client_id)

        async def before_and_after():
            ws = await open_json(server, room)
            assert (await send(ws, "a1"))["type"] == "ack"
            os.remove(os.path.join(data, "history.sqlite3"))
            # The store looks at its files every second: unhealthy within the wait.
            health = await asyncio.get_running_loop().run_in_executor(None, wait_unhealthy, server)
            return health, await send(ws, "a2")

        health, refused = run(before_and_after())
        assert "history.sqlite3" in health["reason"], health
        assert refused["type"] == "error" and refused["code"] == "internal", refused
        assert metrics(server)["parley_history_healthy"] == 0
        assert "history.sqlite3" in server.stderr
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_history_max_bytes_drops_the_oldest_messages_and_acks_every_send():
    """--history-max-bytes: past the cap the largest rooms lose their oldest messages; sends are
    never refused for it (docs/SECURITY.md "Storage")."""
    data = tempfile.mkdtemp(prefix="parley-cap-")
    cap = 1 << 20
    server = ParleyServer(["--data-dir", data, *FAST, "--history-max-bytes", "1MiB"])
    try:
        room = unique_room("cap")
        sent = 600  # about 2.3 MiB of text: more than twice the cap

        async def scenario():
            ws = await open_json(server, room)
            for i in range(sent):
                text = f"{i:05d} " + "y" * 3900
                await ws.send(json.dumps({"type": "send", "room": room, "id": f"c{i}", "text": text}))
                e = await answer(ws, f"c{i}")
                assert e["type"] == "ack", e
        # The cap is enforced between batches, in steps: wait (bounded) until it holds.
        run(scenario())
        deadline = time.monotonic() + T
        while (m := metrics(server))["parley_store_used_bytes"] > cap and time.monotonic() < deadline:
            time.sleep(0.05)
        assert m["parley_store_used_bytes"] <= cap, m
        assert m["parley_store_deleted_by_cap_total"] > 0, m
        kept = run(scenario_kept(server, room))
        assert 0 < len(kept) < sent and kept[-1] == sent, (len(kept), kept[:3], kept[-3:])
        assert kept == list(range(kept[0], sent + 1)), "the oldest went, the newest are all kept"
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


async def scenario_kept(server, room):
    ws = await open_json(server, room)
    kept, after = [], 0
    while True:
        await ws.send(json.dumps({"type": "history", "room": room, "after": after, "limit": 200}))
        while (page := json.loads(await asyncio.wait_for(ws.recv(), T)))["type"] != "history":
            pass
        kept += [m["msg_id"] for m in page["messages"]]
        if not page["truncated"] or not page["messages"]:
            return kept
        after = kept[-1]
