#!/usr/bin/env python3
"""Server memory per connection with and without permessage-deflate.

Starts `parley --echo` (PARLEY_BIN, default build/release/src/app/parley)
once per policy, opens N WebSocket connections to /echo offering what
browsers offer ("permessage-deflate; client_max_window_bits"), or nothing,
and on each sends one compressed 2 KiB text and reads its echo (so every
connection has inflated and compressed once). Prints the server's RSS
growth per connection right after ("active", buffers and zlib state still
held) and once the connections have been silent long enough to be trimmed
("idle"). RSS only falls where glibc can give whole pages back, so "idle"
is an upper bound of what is held; parley_deflate_bench's
connection_memory counts the heap exactly. Usage:
bench/deflate_idle_memory.py [N]
"""
from __future__ import annotations

import base64
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("PARLEY_BIN", str(ROOT / "build/release/src/app/parley"))
OFFER = "permessage-deflate; client_max_window_bits"
TEXT = (b"The quick brown fox jumps over the lazy dog; the build is green again. " * 30)[:2048]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def frame(payload: bytes, rsv1: bool) -> bytes:
    key = os.urandom(4)
    b0 = 0x80 | (0x40 if rsv1 else 0) | 0x1
    n = len(payload)
    head = struct.pack("!BB", b0, 0x80 | n) if n < 126 else struct.pack("!BBH", b0, 0x80 | 126, n)
    masked = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return head + key + masked


def read_until(sock: socket.socket, buf: bytearray, pred) -> None:
    while not pred(buf):
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("server closed")
        buf += chunk


def connect(port: int, offer: str | None) -> tuple[socket.socket, bool]:
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    req = (
        f"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    )
    if offer:
        req += f"Sec-WebSocket-Extensions: {offer}\r\n"
    s.sendall((req + "\r\n").encode())
    buf = bytearray()
    read_until(s, buf, lambda b: b"\r\n\r\n" in b)
    head = bytes(buf[: buf.index(b"\r\n\r\n")]).decode()
    return s, "permessage-deflate" in head


def echo_once(s: socket.socket, deflate: bool) -> None:
    if deflate:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = (c.compress(TEXT) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    else:
        payload = TEXT
    s.sendall(frame(payload, deflate))
    buf = bytearray()

    def whole(b):
        if len(b) < 2:
            return False
        n, off = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return False
            n, off = struct.unpack("!H", b[2:4])[0], 4
        return len(b) >= off + n

    read_until(s, buf, whole)


def measure(n: int, policy: str, offer: str | None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [BIN, "--host", "127.0.0.1", "--port", "0", "--echo", "--history", "off", "--threads", "1",
             "--deflate", policy, "--data-dir", data,
             # thousands of connections from one loopback address
             "--max-connections-per-ip", "0", "--handshake-rate-per-ip", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = None
            for line in proc.stdout:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    port = int(m.group(1))
                    break
            # Warm up (allocator arenas, the per-loop compressor) before the baseline.
            warm = [connect(port, offer) for _ in range(20)]
            for s, d in warm:
                echo_once(s, d)
            time.sleep(2.5)
            base = rss_kib(proc.pid)
            conns = [connect(port, offer) for _ in range(n)]
            for s, d in conns:
                echo_once(s, d)
            active = (rss_kib(proc.pid) - base) * 1024 / n
            time.sleep(2.5)  # silent > 1 s: trimmed at the next sweep
            idle = (rss_kib(proc.pid) - base) * 1024 / n
            for s, _ in conns + warm:
                s.close()
            return active, idle
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"{n} connections, each one 2 KiB echo; server RSS growth per connection")
    for label, policy, offer in [
        ("no deflate offered", "on", None),
        ("--deflate on (default)", "on", OFFER),
        ("--deflate takeover", "takeover", OFFER),
    ]:
        active, idle = measure(n, policy, offer)
        print(f"  {label:<24} active {active / 1024:7.1f} KiB   idle {idle / 1024:7.1f} KiB")


if __name__ == "__main__":
    main()
