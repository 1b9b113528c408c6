#!/usr/bin/env python3
"""Memory per idle connection, plain and TLS (issue 9): starts the server
(release build) once per mode on a free loopback port, opens N WebSocket
connections that join a seed room and stay idle, and prints the growth of the
server's RSS per connection, one JSON line per mode.

  bench/tls_idle.py --bin build/release/src/app/parley --count 2000
  bench/tls_idle.py --count 1000 --modes tls --wrap 'heaptrack -o F' --kill
      then `heaptrack_print -f F.zst --print-leaks 1`: what each idle TLS
      connection holds, by call site

TLS uses a throwaway P-256 certificate (tests/integration/tls_pki.py), TLS 1.3,
X25519: what a browser negotiates. The client is Python's ssl module (OpenSSL)."""
import argparse
import asyncio
import json
import os
import shlex
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
from tls_pki import Pki  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def server_pid(proc):
    # With --wrap (heaptrack), the server is the wrapper's child.
    try:
        kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        kids = []
    return int(kids[-1]) if kids else proc.pid


async def one(port, ctx, path, opened, hold):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                   server_hostname="127.0.0.1" if ctx else None)
    writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head[:80])
    opened.append(writer)
    await hold.wait()
    writer.close()


async def measure(args, mode, pki):
    port = free_port()
    data = tempfile.mkdtemp(prefix="parley-tlsmem-")
    cmd = [args.bin, "--port", str(port), "--data-dir", data, "--history", "off",
           "--max-connections", "0", "--max-connections-per-ip", "0",
           "--handshake-rate-per-ip", "0", "--log-level", "warn"]
    ctx = None
    if mode == "tls":
        chain, key = pki.server_cert(1)
        cmd += ["--tls-cert", str(chain), "--tls-key", str(key)]
        ctx = pki.client_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if args.wrap and mode == "tls":
        cmd = shlex.split(args.wrap) + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        pid = server_pid(proc)
        hold = asyncio.Event()
        opened = []
        # Warm-up: the first connections pay for one-time state (arenas, TLS
        # context caches); they are left out of the per-connection figure.
        warm = [asyncio.create_task(one(port, ctx, args.path, opened, hold)) for _ in range(50)]
        while len(opened) < 50:
            await asyncio.sleep(0.05)
        time.sleep(0.5)
        base = rss_bytes(pid)
        tasks = []
        for i in range(args.count):
            tasks.append(asyncio.create_task(one(port, ctx, args.path, opened, hold)))
            if i % 50 == 49:
                while len(opened) < 50 + i + 1:
                    await asyncio.sleep(0.01)
        while len(opened) < 50 + args.count:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # idle: buffers released
        grown = rss_bytes(pid) - base
        if args.kill:  # heaptrack: what is still allocated is the idle state
            os.kill(pid, 9)
        hold.set()
        await asyncio.gather(*warm, *tasks, return_exceptions=True)
        return {"mode": mode, "connections": args.count, "rss_growth": grown,
                "bytes_per_connection": round(grown / args.count)}
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=60)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/release/src/app/parley")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--path", default="/ws/idle")
    ap.add_argument("--modes", default="plain,tls")
    ap.add_argument("--wrap", default="", help="a command to run the TLS server under (heaptrack)")
    ap.add_argument("--kill", action="store_true",
                    help="SIGKILL the server while its connections are open (heaptrack's leaks = idle state)")
    args = ap.parse_args()
    pki = Pki()
    try:
        for mode in args.modes.split(","):
            print(json.dumps(await measure(args, mode, pki)), flush=True)
    finally:
        pki.remove()


if __name__ == "__main__":
    asyncio.run(main())
