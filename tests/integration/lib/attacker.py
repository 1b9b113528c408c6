"""A hostile client for the attack tests (tests/integration/attack_*.test.mjs).

It runs in its own process so that its blocking writes never stall the test's
honest clients, and it never reads while attacking: its receive buffer is
4 KiB (SO_RCVBUF before connect), so the server's output piles up on the
server's side, as it would for an attacker that simply stops reading.

Usage: attacker.py MODE PORT PATH SECONDS
  ping-flood      upgrade, then send masked 125-byte pings as fast as the
                  socket takes them
  pipelined-get   send up to 40,000 pipelined `GET PATH` requests

It prints one JSON line {"event": "attacking", "port": its local port} when
the attack starts, and when
SECONDS have passed (or the server closed the connection, or a line came on
stdin) it reads what the server sent, up to EOF, and prints the outcome:
  {"sent": bytes written, "write_error": errno name or null,
   "received": bytes read, "end": "eof" | "reset" | "timeout",
   "close_code": the WebSocket close code seen or null,
   "responses": HTTP status lines seen, "last_connection_close": bool}
"""
import base64
import errno
import json
import os
import select
import socket
import struct
import sys
import threading
import time

MODE, PORT, PATH, SECONDS = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])


def say(obj):
    print(json.dumps(obj), flush=True)


def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", PORT))
    return s


def upgrade(s):
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)  # byte by byte: leave every frame byte in the kernel
        if not b:
            sys.exit("EOF during the handshake")
        head += b
    if not head.startswith(b"HTTP/1.1 101 "):
        sys.exit("no 101: " + head.decode("latin1"))


def ping_batch():
    payload = b"p" * 125
    mask = b"\x01\x02\x03\x04"
    masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return (bytes([0x89, 0x80 | 125]) + mask + masked) * 512


def get_batch():
    one = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n\r\n".encode()
    return one * 1000, 40  # 40 batches of 1,000 requests


def hold(s, timeout):
    """Waits, without reading, up to `timeout` for the server to end the
    connection (FIN or reset) or for the test to say "stop" on stdin (it
    watches the server's side of the connection too)."""
    p = select.poll()
    p.register(s, select.POLLRDHUP)
    p.register(sys.stdin, select.POLLIN)
    p.poll(max(0, timeout) * 1000)


def attack(s, batch, batches):
    """Writes `batch` up to `batches` times (None: forever) until SECONDS pass
    or a write fails; writes block while the server does not read. Then, still
    not reading, waits for the rest of SECONDS or until the server closes."""
    sent = [0]
    error = [None]
    stop = time.monotonic() + SECONDS

    def writer():
        n = 0
        try:
            while (batches is None or n < batches) and time.monotonic() < stop:
                s.sendall(batch)
                sent[0] += len(batch)
                n += 1
        except OSError as e:
            error[0] = errno.errorcode.get(e.errno, str(e.errno))

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    while t.is_alive() and time.monotonic() < stop:
        t.join(0.05)
    if not t.is_alive() and error[0] is None:
        hold(s, stop - time.monotonic())
    # A writer still blocked in sendall stays blocked: the reads below are
    # what lets the server drain its queue and finish with us.
    return sent, error


def read_outcome(s, deadline_s=10.0):
    """Reads to EOF: (the first MiB, the last MiB, bytes, how it ended,
    HTTP status lines seen)."""
    s.settimeout(deadline_s)
    stop = time.monotonic() + deadline_s
    head, tail, total, end, statuses = b"", b"", 0, "eof", 0
    try:
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            total += len(d)
            if len(head) < 1 << 20:
                head += d
            statuses += (tail[-8:] + d).count(b"HTTP/1.1 ")
            tail = (tail + d)[-(1 << 20):]
            if time.monotonic() > stop:
                end = "timeout"
                break
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    return head, tail, total, end, statuses


def close_code(buf):
    """The first close frame's code in a stream of server frames (unmasked)."""
    i = 0
    while i + 2 <= len(buf):
        op, n, off = buf[i] & 0x0F, buf[i + 1] & 0x7F, 2
        if n == 126:
            n, off = struct.unpack("!H", buf[i + 2:i + 4])[0], 4
        elif n == 127:
            n, off = struct.unpack("!Q", buf[i + 2:i + 10])[0], 10
        if i + off + n > len(buf):
            return None
        if op == 0x8:
            payload = buf[i + off:i + off + n]
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        i += off + n
    return None


def last_close(tail):
    """The code of a close frame at the very end of the stream, if any."""
    for n in range(0, 126):  # close payloads are at most 125 bytes
        i = len(tail) - 2 - n
        if i >= 0 and tail[i] == 0x88 and tail[i + 1] == n:
            payload = tail[i + 2:]
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


def main():
    s = connect()
    if MODE == "ping-flood":
        upgrade(s)
        batch, batches = ping_batch(), None
    elif MODE == "pipelined-get":
        (batch, batches) = get_batch()
    else:
        sys.exit(f"unknown mode {MODE}")
    say({"event": "attacking", "port": s.getsockname()[1]})
    sent, error = attack(s, batch, batches)
    head, tail, received, end, statuses = read_outcome(s)
    result = {"sent": sent[0], "write_error": error[0], "received": received, "end": end}
    if MODE == "ping-flood":
        # Pongs come first; the close frame, if any, is the last frame.
        result["close_code"] = close_code(head if received <= len(head) else b"") or last_close(tail)
    else:
        last = tail.rfind(b"HTTP/1.1 ")
        result["responses"] = statuses
        result["last_connection_close"] = last >= 0 and b"\r\nConnection: close\r\n" in tail[last:]
    say(result)


main()
