"""A fuzzingclient-like raw-TCP WebSocket client for our Autobahn|Testsuite
cases (test_autobahn_*.py), written from the suite's public case
descriptions.

Independent of the server's code: its own handshake, masking, frame builder
(any FIN/RSV/opcode, a declared length different from the payload), writes
chopped into chunks of a given size, a frame reader that reassembles
messages and checks the server's frames, and observation of the close code
and of who closes TCP.

How a case is judged, as the suite does it:
- the events the server produced (messages, pings, pongs) must equal one of
  the case's expected lists, compared in order;
- the close must come from the expected side with an expected code;
- after the closing handshake the *server* must close TCP ("it is
  preferred that the server close the TCP connection": a fuzzing client
  that has to drop the connection itself marks the case failed).
One difference, stricter: where the suite also accepts the server dropping
TCP without a close frame, we require the close frame with the code.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parley_server import ARTIFACTS, ParleyServer

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_PAYLOAD = 1007

# The suite gives a server 1 s ("killAfter(1)") to fail a connection after a
# protocol error, and waits 1 s between the parts of the 6.4.x fail-fast cases.
FAIL_WITHIN = 1.0
# Generous: only a failing case ever waits this long.
EVENT_TIMEOUT = 10.0
# A pause between the chops of a small chopped write, so that the server
# really sees them in separate reads (the suite writes each chop in its own
# reactor turn). Large chopped writes (9.5/9.6) go without a pause.
CHOP_PAUSE = 0.001

# 16 MiB messages (9.1.6, 9.2.6) need a limit of at least 16 MiB; the echo
# of such a message is 16 MiB plus a header, so pending output must exceed
# 16 MiB too.
MAX_MESSAGE = 16 * 1024 * 1024
# A connection per case, hundreds in a row from one loopback address: no
# handshake rate per address (docs/SECURITY.md, "Rates per address").
SERVER_ARGS = ("--echo", "--history", "off", "--max-message-size", MAX_MESSAGE,
               "--handshake-rate-per-ip", "0")


@pytest.fixture(scope="module")
def echo_server(request, tmp_path_factory):
    """One `parley --echo` per test file, stopped with SIGTERM at the end (a
    non-zero exit fails the last test's teardown). Import it into the test
    module to use it."""
    data_dir = tmp_path_factory.mktemp("parley-data")
    srv = ParleyServer([*SERVER_ARGS, "--data-dir", data_dir])
    yield srv
    srv.save_log(request.module.__name__)
    srv.stop_clean()


# --------------------------------------------------------------------------
# Frames


def mask_bytes(data: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key, fast enough for 16 MiB (big-int XOR)."""
    n = len(data)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def frame_header(opcode: int, length: int, *, fin=True, rsv=0, mask_key: bytes | None = None) -> bytes:
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    m = 0x80 if mask_key is not None else 0
    if length < 126:
        head = struct.pack("!BB", b0, m | length)
    elif length < 65536:
        head = struct.pack("!BBH", b0, m | 126, length)
    else:
        head = struct.pack("!BBQ", b0, m | 127, length)
    return head + (mask_key or b"")


def build_frame(opcode: int, payload: bytes = b"", *, fin=True, rsv=0, mask=True, length=None, mask_key=None) -> bytes:
    """One client frame. `length` overrides the declared payload length (the
    bytes appended are still `payload`)."""
    payload = bytes(payload)
    key = (mask_key or os.urandom(4)) if mask else None
    head = frame_header(opcode, len(payload) if length is None else length, fin=fin, rsv=rsv, mask_key=key)
    return head + (mask_bytes(payload, key) if mask else payload)


def repeat_to(pattern: bytes, n: int) -> bytes:
    """`pattern` repeated and cut to n bytes (the suite's payload_len)."""
    return (pattern * (n // len(pattern) + 1))[:n]


def close_payload(code: int | None, reason: bytes | str = b"") -> bytes:
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


# --------------------------------------------------------------------------
# Events


def _short(b: bytes, n=40) -> str:
    if len(b) <= n:
        return repr(b)
    return f"{b[:n]!r}...<{len(b)} bytes, sha1 {hashlib.sha1(b).hexdigest()[:12]}>"


@dataclass(frozen=True)
class Event:
    """What the suite records: ("message", payload, binary), ("ping",
    payload) or ("pong", payload). Compared by value, printed short."""

    kind: str
    payload: bytes = b""
    binary: bool = False

    def __repr__(self):
        if self.kind == "message":
            return f"message({'binary' if self.binary else 'text'}, {_short(self.payload)})"
        return f"{self.kind}({_short(self.payload)})"


def message(payload: bytes | str, binary=False) -> Event:
    return Event("message", payload.encode() if isinstance(payload, str) else bytes(payload), binary)


def pong(payload: bytes | str = b"") -> Event:
    return Event("pong", payload.encode() if isinstance(payload, str) else bytes(payload))


@dataclass
class CloseInfo:
    code: int | None
    reason: bytes
    raw: bytes

    def __repr__(self):
        return f"close(code={self.code}, reason={_short(self.reason)})"


class ServerViolation(AssertionError):
    """The server sent something RFC 6455 forbids a server to send."""


@dataclass
class Outcome:
    """What happened on one connection, for assertion messages."""

    events: list = field(default_factory=list)
    close: CloseInfo | None = None
    server_closed_first: bool | None = None
    tcp_closed_by_server: bool = False
    sent_close: bytes | None = None

    def __repr__(self):
        who = {True: "server", False: "client", None: "nobody"}[self.server_closed_first]
        return (
            f"events={self.events!r}, close={self.close!r} (initiated by {who}), "
            f"server closed TCP={self.tcp_closed_by_server}"
        )


# --------------------------------------------------------------------------
# The client


class FuzzClient:
    """One connection. `FuzzClient(port)` does TCP and the upgrade."""

    def __init__(self, port: int, path: str = "/echo", timeout: float = EVENT_TIMEOUT, extensions: str | None = None):
        """`extensions`: a Sec-WebSocket-Extensions offer (see autobahn_deflate.py)."""
        self.port = port
        self.extensions = extensions
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False
        self.outcome = Outcome()
        self.frames_sent = {}  # opcode -> count, like the suite's txFrameStats
        self._fragments: list[bytes] = []
        self._frag_opcode: int | None = None
        self._frag_rsv = 0
        self._handshake(path)

    # -- handshake -----------------------------------------------------------
    def _handshake(self, path):
        key = base64.b64encode(os.urandom(16)).decode()
        req = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        )
        if self.extensions is not None:
            req += f"Sec-WebSocket-Extensions: {self.extensions}\r\n"
        req += "\r\n"
        self.sock.sendall(req.encode())
        deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise AssertionError(f"EOF during the handshake: {bytes(self.buf)!r}")
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[: end + 4]
        lines = head.split("\r\n")
        assert re.match(r"^HTTP/1\.1 101 ", lines[0]), f"expected 101 for {path}: {head!r}"
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        assert headers.get("sec-websocket-accept") == accept, f"bad Sec-WebSocket-Accept in {head!r}"
        self._accept_extensions(headers.get("sec-websocket-extensions"), head)

    def _accept_extensions(self, answer: str | None, head: str):
        """Checks the server's Sec-WebSocket-Extensions (a subclass that
        offers extensions overrides this)."""
        assert answer is None, f"no extension was offered: {head!r}"

    def _check_rsv(self, rsv: int, opcode: int):
        """RSV bits of a server frame (a subclass that negotiated an
        extension allows its bit)."""
        if rsv:
            raise ServerViolation(f"the server set RSV={rsv} (opcode {opcode})")

    # -- writing -------------------------------------------------------------
    def send(self, data: bytes, chop: int | None = None, pause: float = CHOP_PAUSE):
        """Write `data`, in chunks of `chop` bytes if given (a pause between
        chunks makes the server see them in separate reads)."""
        if not chop:
            self.sock.sendall(data)
            return
        mv = memoryview(data)
        for i in range(0, len(data), chop):
            self.sock.sendall(mv[i : i + chop])
            if pause:
                time.sleep(pause)

    def send_frame(
        self, opcode, payload: bytes | str = b"", *, fin=True, rsv=0, length=None, mask=True, chop=None, sync=False
    ):
        """One frame. `sync` (the suite's name) writes it on its own, after a
        short pause, so frames do not share a TCP segment; `chop` writes it
        in chunks of that many bytes."""
        if isinstance(payload, str):
            payload = payload.encode()
        self.frames_sent[opcode] = self.frames_sent.get(opcode, 0) + 1
        data = build_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, length=length)
        if sync:
            time.sleep(CHOP_PAUSE * 5)
        self.send(data, chop)
        if opcode == OP_CLOSE and self.outcome.sent_close is None:
            self.outcome.sent_close = bytes(payload)
            if self.outcome.server_closed_first is None:
                self.outcome.server_closed_first = False

    def send_message(self, payload: bytes | str, binary=False, frag_size=None, chop=None, pause=CHOP_PAUSE):
        """A message, in frames of `frag_size` payload bytes if given; all
        frames are built first and written as one stream (chopped if asked)."""
        if isinstance(payload, str):
            payload = payload.encode()
        first = OP_BINARY if binary else OP_TEXT
        if not frag_size or len(payload) <= frag_size:
            self.frames_sent[first] = self.frames_sent.get(first, 0) + 1
            self.send(build_frame(first, payload), chop, pause)
            return
        parts = []
        mv = memoryview(payload)
        n = len(payload)
        for i in range(0, n, frag_size):
            op = first if i == 0 else OP_CONT
            self.frames_sent[op] = self.frames_sent.get(op, 0) + 1
            parts.append(build_frame(op, mv[i : i + frag_size], fin=i + frag_size >= n))
        self.send(b"".join(parts), chop, pause)

    def send_close(self, code: int | None = CLOSE_NORMAL, reason: bytes | str = b"", **kw):
        self.send_frame(OP_CLOSE, close_payload(code, reason), **kw)

    # -- reading -------------------------------------------------------------
    def _fill(self, deadline: float) -> bool:
        """Read more bytes; False at EOF (or reset). TimeoutError at the deadline."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError from None
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _parse_frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        n = b[1] & 0x7F
        off = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack_from("!H", b, 2)[0]
            off = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack_from("!Q", b, 2)[0]
            off = 10
        if b[1] & 0x80:
            raise ServerViolation(f"the server sent a masked frame: {bytes(b[:16]).hex()}")
        if len(b) < off + n:
            return None
        fin, rsv, opcode = bool(b[0] & 0x80), (b[0] >> 4) & 7, b[0] & 0xF
        payload = bytes(b[off : off + n])
        del b[: off + n]
        self._check_rsv(rsv, opcode)
        if opcode >= 8 and (not fin or n > 125):
            raise ServerViolation(f"bad control frame from the server: opcode {opcode} fin={fin} length {n}")
        self._last_rsv = rsv
        return fin, opcode, payload

    def next_frame(self, deadline: float):
        """(fin, opcode, payload) of the next frame, None at EOF, TimeoutError
        at the deadline. The frame's RSV bits are in self._last_rsv."""
        while True:
            f = self._parse_frame()
            if f is not None:
                return f
            if not self._fill(deadline):
                return None

    def next_event(self, deadline: float):
        """The next Event, a CloseInfo, or None at EOF. Pings from the server
        are answered (the suite's client does too) and recorded."""
        while True:
            f = self.next_frame(deadline)
            if f is None:
                return None
            fin, opcode, payload = f
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                if len(payload) == 1:
                    raise ServerViolation("the server sent a 1-byte close payload")
                return CloseInfo(code, payload[2:], payload)
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                return Event("ping", payload)
            if opcode == OP_PONG:
                return Event("pong", payload)
            if opcode in (OP_TEXT, OP_BINARY):
                if self._frag_opcode is not None:
                    raise ServerViolation("the server started a message inside a fragmented one")
                if fin:
                    return self._message(opcode, payload, self._last_rsv)
                self._frag_opcode, self._fragments, self._frag_rsv = opcode, [payload], self._last_rsv
                continue
            if opcode == OP_CONT:
                if self._frag_opcode is None:
                    raise ServerViolation("the server sent a continuation with nothing to continue")
                if self._last_rsv:
                    raise ServerViolation(f"the server set RSV={self._last_rsv} on a continuation frame")
                self._fragments.append(payload)
                if fin:
                    op, data = self._frag_opcode, b"".join(self._fragments)
                    self._frag_opcode, self._fragments = None, []
                    return self._message(op, data, self._frag_rsv)
                continue
            raise ServerViolation(f"the server sent reserved opcode {opcode}")

    def _message(self, opcode, payload, rsv=0):
        """The Event for a whole message; `rsv` is its first frame's RSV
        bits (a subclass that negotiated compression decompresses here)."""
        if opcode == OP_TEXT:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ServerViolation(f"the server sent invalid UTF-8 in a text message: {e}") from None
        return Event("message", payload, opcode == OP_BINARY)

    def read_until_close(self, timeout: float = EVENT_TIMEOUT, until_events: int | None = None):
        """Record events until the server's close frame (returned), EOF
        (None), or, if `until_events` is given, until that many events were
        recorded (returns False). TimeoutError at the deadline."""
        deadline = time.monotonic() + timeout
        while until_events is None or len(self.outcome.events) < until_events:
            ev = self.next_event(deadline)
            if ev is None:
                return None
            if isinstance(ev, CloseInfo):
                self.outcome.close = ev
                if self.outcome.server_closed_first is None:
                    self.outcome.server_closed_first = True
                return ev
            self.outcome.events.append(ev)
        return False

    def wait_tcp_close(self, timeout: float = EVENT_TIMEOUT) -> bool:
        """Wait for the server to close TCP; bytes arriving meanwhile are
        dropped. True if it did within the timeout."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                self.buf.clear()
        except TimeoutError:
            return False
        self.outcome.tcp_closed_by_server = True
        return True

    def nothing_within(self, seconds: float):
        """The server sent nothing (and did not close) for `seconds`."""
        try:
            f = self.next_frame(time.monotonic() + seconds)
        except TimeoutError:
            return None
        return "EOF" if f is None else f

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# Judging a case (the suite's expected events and expected close)


def finish_client_close(c: FuzzClient, expected: list, *, codes=(CLOSE_NORMAL,), timeout=EVENT_TIMEOUT, label=""):
    """A case the client closes ("closedByMe": True): wait for the expected
    number of events, send close 1000, and require the server's close reply
    with one of `codes`, no other events, and the server closing TCP."""
    t0 = time.monotonic()
    try:
        got = c.read_until_close(timeout, until_events=len(expected)) if expected else False
    except TimeoutError:
        msg = f"{label}: timed out after {timeout}s waiting for {expected!r}; got {c.outcome!r}"
        raise AssertionError(msg) from None
    assert got is False, f"{label}: the server closed before the expected events {expected!r}: {c.outcome!r}"
    c.send_close(CLOSE_NORMAL)
    expect_close_reply(c, expected, codes=codes, timeout=max(1.0, timeout - (time.monotonic() - t0)), label=label)


def expect_close_reply(
    c: FuzzClient, expected: list, *, codes=(CLOSE_NORMAL,), allow_empty=False, timeout=EVENT_TIMEOUT, label=""
):
    """The client has sent its close: read to the server's close reply."""
    try:
        got = c.read_until_close(timeout)
    except TimeoutError:
        raise AssertionError(f"{label}: no close reply within {timeout}s: {c.outcome!r}") from None
    assert got is not None, f"{label}: the server closed TCP without a close reply: {c.outcome!r}"
    assert c.outcome.events == expected, f"{label}: expected events {expected!r}, got {c.outcome!r}"
    ok_codes = set(codes) | ({None} if allow_empty else set())
    assert got.code in ok_codes, f"{label}: close code {got.code} not in {sorted(ok_codes, key=str)}: {c.outcome!r}"
    closed = c.wait_tcp_close(timeout)
    assert closed, f"{label}: the server did not close TCP after the closing handshake: {c.outcome!r}"


def expect_server_fails(
    c: FuzzClient, expected: list, code: int | tuple, *, within=FAIL_WITHIN, non_strict=None, label=""
):
    """A case the server must fail ("closedByMe": False): events before its
    close frame must equal `expected`, the close code must be `code`, within
    `within` seconds of the last write; then the client answers the close and
    the server must close TCP. `non_strict` is the suite's NON-STRICT event
    list, named in the message if that is what happened."""
    codes = code if isinstance(code, tuple) else (code,)
    try:
        got = c.read_until_close(within)
    except TimeoutError:
        msg = f"{label}: the server did not fail the connection within {within}s: {c.outcome!r}"
        raise AssertionError(msg) from None
    assert got is not None, f"{label}: TCP closed without a close frame (expected close {codes}): {c.outcome!r}"
    if c.outcome.events != expected and non_strict is not None and c.outcome.events == non_strict:
        raise AssertionError(f"{label}: NON-STRICT, expected events {expected!r}: {c.outcome!r}")
    assert c.outcome.events == expected, f"{label}: expected events {expected!r}, got {c.outcome!r}"
    assert got.code in codes, f"{label}: expected close {codes}, got {c.outcome!r}"
    try:
        c.send(build_frame(OP_CLOSE, got.raw[:2]))
    except OSError:
        pass
    assert c.wait_tcp_close(EVENT_TIMEOUT), f"{label}: the server did not close TCP after its close: {c.outcome!r}"


# --------------------------------------------------------------------------
# Timings (section 9): printed at the end of the run, saved as an artifact.


class Timings:
    """Per-case times, printed in the terminal summary (a plugin registered
    for the run) and saved as ARTIFACTS/<module>.timings.txt."""

    def __init__(self, name):
        self.name = name
        self.rows: list[tuple[str, str, float]] = []

    def add(self, case: str, what: str, seconds: float):
        self.rows.append((case, what, seconds))

    def lines(self):
        return [f"{case:<12} {seconds * 1000:9.1f} ms  {what}" for case, what, seconds in self.rows]

    def save(self):
        if not self.rows:
            return
        try:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            Path(ARTIFACTS / f"{self.name}.timings.txt").write_text("\n".join(self.lines()) + "\n")
        except OSError:
            pass

    def pytest_terminal_summary(self, terminalreporter):
        if self.rows:
            terminalreporter.write_sep("-", f"Autobahn case times, {self.name} (not asserted)")
            for line in self.lines():
                terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def case_timings(request):
    t = Timings(request.module.__name__)
    request.config.pluginmanager.register(t, f"autobahn-timings-{t.name}")
    yield t
    t.save()
