"""Test harness for the Parley binary, shared by the test_*.py files.

- ParleyServer: start `parley --host 127.0.0.1 --port 0 ...` and learn the
  port from its listening line, stop it with a signal and check the exit code,
  keep stderr for failure messages.
- RawWS: a raw-socket WebSocket client for hand-crafted frames (any FIN/RSV/
  opcode, masked or not, lying lengths, split writes) that parses the server's
  frames itself, so close codes and the TCP close are observed exactly.
- http_request: one raw HTTP/1.1 exchange on a fresh socket.

Independent of the server's code: only the CLI and the wire protocol.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("PARLEY_SOURCE_DIR", Path(__file__).resolve().parents[2]))
PARLEY_BIN = os.environ.get("PARLEY_BIN", str(SOURCE_DIR / "build/debug/src/app/parley"))
ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS", "/tmp/parley-test-artifacts"))

# The first line names the main port (https:// with --tls-cert); a second
# http:// line the plain port beside it (--plain-port).
LISTENING = re.compile(r"^parley listening on (https?)://127\.0\.0\.1:(\d+)\s*$")
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def join_notice(n: int) -> str:
    return f"系统通知: 新用户加入,当前在线{n}人"


def leave_notice(n: int) -> str:
    return f"系统通知: 用户离开,当前在线{n}人"


_rooms = itertools.count(1)


def unique_room(prefix: str = "room") -> str:
    """A fresh room name, so tests sharing a server never see each other."""
    return f"{prefix}-{os.getpid()}-{next(_rooms)}"


class ParleyServer:
    """A running parley process. Use as a context manager or call stop()."""

    def __init__(self, args=(), env=None, ready_timeout=20.0, port=0, preexec_fn=None):
        """`port` 0 picks a free port; give one to restart on the same port.
        `preexec_fn` runs in the child before exec (resource limits)."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        args = [str(a) for a in args]
        # A data directory of its own unless the test names one: the history
        # store locks its directory, and tests run in parallel.
        if "--data-dir" not in args and "PARLEY_DATA_DIR" not in (env or {}):
            args = ["--data-dir", tempfile.mkdtemp(prefix="parley-it-"), *args]
        self.args = [PARLEY_BIN, "--host", "127.0.0.1", "--port", str(port), *args]
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            preexec_fn=preexec_fn,
        )
        self._stderr = bytearray()
        self._stdout_lines: list[str] = []
        self._ready = threading.Event()
        self.port: int | None = None
        self.plain_port: int | None = None
        self.scheme = "http"
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        if not self._ready.wait(ready_timeout) or self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"parley did not print its listening line within {ready_timeout}s "
                f"(exit={self.proc.returncode})\nstdout: {self._stdout_lines}\nstderr: {self.stderr}"
            )

    def _pump_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self._stdout_lines.append(line)
            m = LISTENING.match(line)
            if m and self.port is None:
                self.scheme = m.group(1)
                self.port = int(m.group(2))
                # With --plain-port, its line follows at once.
                if not (self.scheme == "https" and "--plain-port" in self.args):
                    self._ready.set()
            elif m:
                self.plain_port = int(m.group(2))
                self._ready.set()
        self._ready.set()  # EOF: the process died before listening

    def _pump_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self._stderr += chunk

    @property
    def stderr(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    def url(self, path="/wss", scheme="ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self, sig=signal.SIGTERM, timeout=10.0) -> int:
        """Send `sig`, wait for the exit and return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"parley did not exit within {timeout}s of {sig!r}\nstderr: {self.stderr}")

    def stop_clean(self, timeout=10.0):
        code = self.stop(timeout=timeout)
        assert code == 0, f"parley exited with {code}\nstderr: {self.stderr}"

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def save_log(self, name: str):
        try:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.stderr.log").write_bytes(bytes(self._stderr))
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop_clean()
        else:
            self.kill()


# --------------------------------------------------------------------------
# Frames


def encode_frame(opcode, payload=b"", *, fin=True, rsv=0, mask=True, mask_key=None, length=None) -> bytes:
    """One frame. `length` overrides the declared payload length (the payload
    appended is still `payload`), for header-only or lying frames."""
    payload = bytes(payload)
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4) if mask_key is None else bytes(mask_key)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def close_payload(code: int, reason: bytes | str = b"") -> bytes:
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes
    masked: bool = False

    @property
    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def text(self):
        return self.payload.decode("utf-8")


class Closed(Exception):
    """The server closed TCP (EOF or reset)."""


def make_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    raw_head: str = ""

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


class RawWS:
    """A blocking raw-socket client. connect() opens TCP only; upgrade() does
    the handshake (or use RawWS.open(port, path))."""

    def __init__(self, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = port
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.response: HttpResponse | None = None

    @classmethod
    def open(cls, port, path="/wss", headers=None, timeout=5.0) -> "RawWS":
        ws = cls(port, timeout)
        resp = ws.upgrade(path, headers)
        if resp.status != 101:
            ws.close()
            raise AssertionError(f"expected 101 for {path}, got {resp.status}: {resp.raw_head!r}")
        return ws

    # -- bytes -------------------------------------------------------------
    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        """Read more bytes; False at EOF. Raises TimeoutError at the deadline."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for data from the server")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("timed out waiting for data from the server") from None
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    # -- HTTP --------------------------------------------------------------
    def read_http_response(self, timeout=None, body=True) -> HttpResponse:
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise Closed(f"EOF before the end of the HTTP response head: {bytes(self.buf)!r}")
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[: end + 4]
        lines = head.split("\r\n")
        m = re.match(r"^HTTP/1\.[01] (\d{3}) ?(.*)$", lines[0])
        assert m, f"bad status line {lines[0]!r}"
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        resp = HttpResponse(int(m.group(1)), m.group(2), headers, raw_head=head)
        length = resp.header("Content-Length")
        if body and length is not None and resp.status != 101:
            n = int(length)
            while len(self.buf) < n:
                if not self._fill(deadline):
                    break
            resp.body = bytes(self.buf[:n])
            del self.buf[:n]
        return resp

    def upgrade(self, path="/wss", headers=None, method="GET", key=None) -> HttpResponse:
        """Send an upgrade request. `headers` entries override the defaults;
        a value of None removes a default header."""
        key = key or make_key()
        hdrs = {
            "Host": f"127.0.0.1:{self.port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13",
        }
        for k, v in (headers or {}).items():
            hdrs[k] = v
        req = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items() if v is not None)
        self.send((req + "\r\n").encode("latin-1"))
        self.response = self.read_http_response(body=True)
        if self.response.status == 101:
            got = self.response.header("Sec-WebSocket-Accept")
            assert got == accept_for(hdrs["Sec-WebSocket-Key"]), f"bad Sec-WebSocket-Accept {got!r}"
        return self.response

    # -- frames ------------------------------------------------------------
    def send_frame(self, opcode, payload=b"", **kw):
        self.send(encode_frame(opcode, payload, **kw))

    def send_text(self, text: str | bytes, **kw):
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str) else text, **kw)

    def send_close(self, code=None, reason=b""):
        self.send_frame(OP_CLOSE, b"" if code is None else close_payload(code, reason))

    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        n = b[1] & 0x7F
        off = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack("!H", b[2:4])[0]
            off = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack("!Q", b[2:10])[0]
            off = 10
        masked = bool(b[1] & 0x80)
        if masked:
            off += 4
        if len(b) < off + n:
            return None
        payload = bytes(b[off : off + n])
        if masked:
            key = b[off - 4 : off]
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        f = Frame(bool(b[0] & 0x80), (b[0] >> 4) & 7, b[0] & 0xF, payload, masked)
        del b[: off + n]
        return f

    def recv_frame(self, timeout=None) -> Frame:
        """The next frame; raises Closed at EOF, TimeoutError at the deadline."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            f = self._parse()
            if f is not None:
                return f
            if not self._fill(deadline):
                raise Closed(f"EOF ({len(self.buf)} unparsed bytes)")

    def recv_text(self, timeout=None) -> str:
        """The next text message (single frame), answering nothing; fails on
        anything else."""
        f = self.recv_frame(timeout)
        assert f.opcode == OP_TEXT and f.fin, f"expected a text frame, got {f}"
        return f.text

    def expect_close(self, timeout=None, reply=True) -> tuple[int | None, bytes, list[Frame]]:
        """Read until the server's close frame (earlier frames are returned),
        answer it, and require the server to close TCP afterwards."""
        before = []
        while True:
            try:
                f = self.recv_frame(timeout)
            except Closed:
                raise AssertionError(f"TCP closed without a close frame; frames before: {before}") from None
            if f.opcode == OP_CLOSE:
                break
            before.append(f)
        assert not f.masked, "server frames must not be masked"
        if reply:
            try:
                self.send_frame(OP_CLOSE, f.payload[:2])
            except OSError:
                pass
        self.expect_eof(timeout)
        return f.close_code, f.payload[2:], before

    def expect_eof(self, timeout=None, keep=False):
        """Wait for the server to close TCP; bytes arriving meanwhile are
        dropped unless `keep`."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while self._fill(deadline):
            if not keep:
                self.buf.clear()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def http_request(port, raw: bytes | str, timeout=5.0, read_body=True) -> HttpResponse:
    """Send `raw` on a new connection and read one response."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    with RawWS(port, timeout) as c:
        c.send(raw)
        return c.read_http_response(body=read_body)


def get(port, path, method="GET", headers=None, timeout=5.0) -> HttpResponse:
    hdrs = {"Host": f"127.0.0.1:{port}", "Connection": "close", **(headers or {})}
    req = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return http_request(port, req, timeout, read_body=(method != "HEAD"))
