"""A real redis-server for the scale-out tests (Debian's, installed by
scripts/install-deps.sh --test), and a cluster of Parley nodes sharing it.

RedisServer runs on a free loopback port with its own directory, AOF on and
`appendfsync always` (docs/SCALING.md: an acknowledged message survives a
Redis crash only then), RDB snapshots off. kill() is SIGKILL; restart() comes
back on the same port and directory, loading the AOF.
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from parley_server import ParleyServer, get

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_command(port: int, *args: str, timeout=2.0) -> bytes:
    """One command over RESP, the raw reply (for readiness and small checks)."""
    payload = f"*{len(args)}\r\n".encode() + b"".join(
        f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        return s.recv(65536)


class RedisServer:
    def __init__(self, port: int | None = None, directory: str | None = None):
        self.dir = directory or tempfile.mkdtemp(prefix="parley-redis-")
        self.port = port or free_port()
        self.proc = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=15.0):
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--daemonize", "no", "--logfile", str(Path(self.dir) / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited {self.proc.returncode}: {self.log()}")
            try:
                if redis_command(self.port, "PING").startswith(b"+PONG"):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server not ready on {self.port}: {self.log()}")

    def log(self) -> str:
        p = Path(self.dir) / "redis.log"
        return p.read_text(errors="replace")[-2000:] if p.exists() else ""

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def restart(self):
        self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_node(redis: RedisServer, name: str, *args, port=0, ready_timeout=20.0) -> ParleyServer:
    """A Parley node of the cluster that shares `redis`, once it is ready:
    /healthz answers 200 when its Redis connections are up and it holds a
    block of guest numbers (before that a plain-text guest would be numbered
    by the node alone, and could repeat another node's number)."""
    node = ParleyServer(["--redis", redis.url, "--node-id", name, "--threads", "2", *args], port=port)
    deadline = time.monotonic() + ready_timeout
    while True:
        health = get(node.port, "/healthz")
        if health.status == 200:
            return node
        if time.monotonic() > deadline:
            node.stop()
            raise RuntimeError(f"node {name} not ready within {ready_timeout}s: {health.body!r}")
        time.sleep(0.02)  # polling a readiness endpoint, bounded by the deadline


def start_nodes(redis: RedisServer, count: int, prefix: str, *args) -> list[ParleyServer]:
    """`count` nodes named prefix0, prefix1, ... (the `nodes` fixture, conftest.py)."""
    return [start_node(redis, f"{prefix}{i}", *args) for i in range(count)]
