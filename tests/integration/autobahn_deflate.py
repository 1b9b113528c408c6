"""permessage-deflate (RFC 7692) for our Autobahn|Testsuite client: the
client side of sections 12 and 13, written from the RFC and the suite's
public case descriptions, independent of the server's code (Python's own
zlib binding compresses and decompresses, and the server's answer is
checked against the offer by our own parser here).

- DeflateClient: FuzzClient offering permessage-deflate; it checks the
  server's Sec-WebSocket-Extensions answer against the offer (RFC 7692
  §7.1), compresses what it sends (RSV1 on the first frame, the tail
  00 00 ff ff removed, §7.2.1) and decompresses what it receives.
- Offer: the suite's PerMessageDeflateOffer (acceptNoContextTakeover,
  acceptMaxWindowBits, requestNoContextTakeover, requestMaxWindowBits) and
  its header string.
- run_echo_case(): one 12.x/13.x case, as the suite runs it: COUNT messages,
  each a slice of the test data going round the data cyclically, sent (auto-
  fragmented into frames of N octets of compressed payload when N > 0) once
  the previous echo is back and equal, then a clean close with 1000.
- TEST_DATA: stand-ins for the suite's five test files (which this repository
  does not ship), generated deterministically with the same size and nature.
"""
from __future__ import annotations

import json
import os
import random
import re
import struct
import time
import zlib
from dataclasses import dataclass

from autobahn_client import (
    OP_BINARY,
    OP_CONT,
    OP_TEXT,
    Event,
    FuzzClient,
    ServerViolation,
    build_frame,
    finish_client_close,
)

TAIL = b"\x00\x00\xff\xff"
RSV1 = 4  # (b0 >> 4) & 7

# --------------------------------------------------------------------------
# The offer and the answer


@dataclass(frozen=True)
class Offer:
    """The suite's PerMessageDeflateOffer. accept_no_context_takeover and
    accept_max_window_bits say the client supports client_no_context_takeover
    and client_max_window_bits in the answer; request_* ask the server for
    server_no_context_takeover and server_max_window_bits=N (0: not asked)."""

    accept_no_context_takeover: bool = True
    accept_max_window_bits: bool = True
    request_no_context_takeover: bool = False
    request_max_window_bits: int = 0

    def header(self) -> str:
        s = "permessage-deflate"
        if self.accept_no_context_takeover:
            s += "; client_no_context_takeover"
        if self.accept_max_window_bits:
            s += "; client_max_window_bits"
        if self.request_no_context_takeover:
            s += "; server_no_context_takeover"
        if self.request_max_window_bits:
            s += f"; server_max_window_bits={self.request_max_window_bits}"
        return s

    def describe(self) -> str:
        return f"({self.request_no_context_takeover}, {self.request_max_window_bits})"


@dataclass
class Agreement:
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15


_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BITS = re.compile(r"^(8|9|1[0-5])$")


def check_answer(answer: str, offers: list[Offer]) -> tuple[Agreement, Offer]:
    """The server's answer, checked against RFC 7692 §7.1: one
    permessage-deflate, known parameters once each, values in range, and
    consistent with one of the offers. Returns the agreement and that offer."""
    parts = [p.strip() for p in answer.split(";")]
    assert parts[0] == "permessage-deflate" and "," not in answer, f"answer {answer!r}"
    params: dict[str, str | None] = {}
    for p in parts[1:]:
        name, eq, value = p.partition("=")
        name, value = name.strip(), value.strip().strip('"') if eq else None
        assert _TOKEN.match(name), f"bad parameter {p!r} in {answer!r}"
        assert name not in params, f"{name} twice in {answer!r}"
        params[name] = value
    a = Agreement()
    for name, value in params.items():
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            assert value is None, f"{name} takes no value: {answer!r}"
            setattr(a, name, True)
        elif name in ("server_max_window_bits", "client_max_window_bits"):
            # In an answer both need a value (§7.1.2.1, §7.1.2.2).
            assert value is not None and _BITS.match(value), f"{name} must be 8..15: {answer!r}"
            setattr(a, name, int(value))
        else:
            raise AssertionError(f"unknown parameter {name} in {answer!r}")
    # The answer must fit one of the offers (the server accepts one of them).
    for offer in offers:
        if "client_max_window_bits" in params and not offer.accept_max_window_bits:
            continue  # §7.1.2.2: only when offered
        if "client_no_context_takeover" in params and not offer.accept_no_context_takeover:
            continue  # the suite's client would refuse it (its offer says it can't)
        if offer.request_max_window_bits and a.server_max_window_bits > offer.request_max_window_bits:
            continue  # §7.1.2.1: the same or smaller
        if offer.request_max_window_bits and "server_max_window_bits" not in params:
            continue  # §7.1.2.1: required to accept it
        if offer.request_no_context_takeover and not a.server_no_context_takeover:
            continue  # §7.1.1.1: required to accept it
        return a, offer
    raise AssertionError(f"answer {answer!r} fits none of the offers {[o.header() for o in offers]}")


# --------------------------------------------------------------------------
# The client


class DeflateClient(FuzzClient):
    """A FuzzClient that offers `offers` (all of them, in order) and speaks
    permessage-deflate if the server accepts; `require` fails the handshake
    check unless it does."""

    def __init__(self, port: int, offers: list[Offer], *, require=True, level=6, **kw):
        self.offers = offers
        self.require = require
        self.level = level
        self.agreement: Agreement | None = None
        self.accepted_offer: Offer | None = None
        self.answer: str | None = None
        self._compressor = None
        self._decompressor = None
        self.wire_bytes_received = 0
        super().__init__(port, extensions=", ".join(o.header() for o in offers), **kw)

    def _accept_extensions(self, answer, head):
        self.answer = answer
        if answer is None:
            assert not self.require, f"permessage-deflate was not accepted: {head!r}"
            return
        self.agreement, self.accepted_offer = check_answer(answer, self.offers)
        assert self.agreement.client_max_window_bits >= 9, "Python's zlib can't compress with 8 bits"

    def _check_rsv(self, rsv, opcode):
        if rsv == RSV1 and self.agreement is not None and opcode in (OP_TEXT, OP_BINARY):
            return
        super()._check_rsv(rsv, opcode)

    def _fill(self, deadline):
        before = len(self.buf)
        more = super()._fill(deadline)
        self.wire_bytes_received += max(0, len(self.buf) - before)
        return more

    # -- compression (§7.2) --------------------------------------------------
    def compress(self, data: bytes) -> bytes:
        a = self.agreement
        if self._compressor is None or a.client_no_context_takeover:
            self._compressor = zlib.compressobj(self.level, zlib.DEFLATED, -a.client_max_window_bits)
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]

    def decompress(self, data: bytes) -> bytes:
        a = self.agreement
        if self._decompressor is None or a.server_no_context_takeover:
            # Exactly the window the server may use: a longer distance fails.
            self._decompressor = zlib.decompressobj(-a.server_max_window_bits)
        try:
            return self._decompressor.decompress(data + TAIL)
        except zlib.error as e:
            raise ServerViolation(f"the server sent invalid compressed data: {e}") from None

    def _message(self, opcode, payload, rsv=0):
        if rsv == RSV1:
            self.compressed_received = getattr(self, "compressed_received", 0) + 1
            payload = self.decompress(payload)
        return super()._message(opcode, payload, 0)

    def send_compressed(self, payload: bytes, binary: bool, frag_size: int = 0):
        """One compressed message; with frag_size, frames of that many octets
        of compressed payload (RSV1 on the first only)."""
        data = self.compress(payload)
        first = OP_BINARY if binary else OP_TEXT
        if not frag_size or len(data) <= frag_size:
            self.send(build_frame(first, data, rsv=RSV1))
            return
        parts = []
        for i in range(0, len(data), frag_size):
            op, rsv = (first, RSV1) if i == 0 else (OP_CONT, 0)
            parts.append(build_frame(op, data[i : i + frag_size], fin=i + frag_size >= len(data), rsv=rsv))
        self.send(b"".join(parts))


# --------------------------------------------------------------------------
# The cases


# (payload length, message count, case timeout, auto-fragment size): the
# suite's MSG_SIZES, in case order x.y.1 ... x.y.18.
MSG_SIZES = [
    (16, 1000, 60, 0),
    (64, 1000, 60, 0),
    (256, 1000, 120, 0),
    (1024, 1000, 240, 0),
    (4096, 1000, 480, 0),
    (8192, 1000, 480, 0),
    (16384, 1000, 480, 0),
    (32768, 1000, 480, 0),
    (65536, 1000, 480, 0),
    (131072, 1000, 480, 0),
    (8192, 1000, 480, 256),
    (16384, 1000, 480, 256),
    (32768, 1000, 480, 256),
    (65536, 1000, 480, 256),
    (131072, 1000, 480, 256),
    (131072, 1000, 480, 1024),
    (131072, 1000, 480, 4096),
    (131072, 1000, 480, 32768),
]

# The suite sends 1000 messages in every case, up to 128 MiB each way. CI
# runs every case with the count cut so that a case moves at most
# BYTES_PER_CASE (never fewer than 16 messages, always the full 1000 for
# 1 KiB and less): far more than the 32 KiB window in every case, so the
# compression contexts slide as they do in the full run.
# PARLEY_AUTOBAHN_FULL=1 runs the suite's counts.
BYTES_PER_CASE = 2 * 1024 * 1024
FULL = os.environ.get("PARLEY_AUTOBAHN_FULL") == "1"


def message_count(size: int, count: int) -> int:
    if FULL:
        return count
    return max(16, min(count, BYTES_PER_CASE // max(size, 1)))


def case_params(section: int, sub: int):
    """pytest params for x.sub.1 ... x.sub.18."""
    return [(f"case_{section}_{sub}_{i}", *s) for i, s in enumerate(MSG_SIZES, 1)]


def run_echo_case(port, label, offers, data: bytes, binary: bool, size, count, wait, frag, timings=None):
    """One 12.x/13.x case against /echo. Returns the client (for its
    agreement and counters)."""
    n = message_count(size, count)
    with DeflateClient(port, offers, timeout=wait) as c:
        t0 = time.monotonic()
        deadline = t0 + wait
        pos = 0
        for i in range(n):
            end = (pos + size) % len(data)
            msg = data[pos:end] if end > pos else data[pos:] + data[:end]
            pos = end
            c.send_compressed(msg, binary, frag)
            got = c.read_until_close(max(0.1, deadline - time.monotonic()), until_events=1)
            assert got is False, f"{label}: message {i}: the server closed: {c.outcome!r}"
            ev = c.outcome.events.pop()
            expected = Event("message", msg, binary)
            assert ev == expected, f"{label}: message {i}: echo differs: got {ev!r}, sent {expected!r}"
        elapsed = time.monotonic() - t0
        finish_client_close(c, [], label=label)
    if timings is not None:
        how = f"{n} x {size} B {'binary' if binary else 'text'}" + (f", frames of {frag}" if frag else "")
        timings.add(label, how, elapsed)
    return c


# --------------------------------------------------------------------------
# Test data: stand-ins for the suite's files, same size and nature.


def _json_data(n: int) -> bytes:
    """Large JSON data (utf8, ASCII only so any slice is valid UTF-8)."""
    rng = random.Random(1201)
    words = ["alpha", "beta", "gamma", "delta", "server", "client", "frame", "window", "message"]
    rows = []
    out = b""
    i = 0
    while len(out) < n:
        rows.append(
            {
                "id": i,
                "guid": f"{rng.getrandbits(64):016x}-{rng.getrandbits(32):08x}",
                "isActive": rng.random() < 0.5,
                "balance": f"${rng.randint(1000, 4000)}.{rng.randint(10, 99)}",
                "age": rng.randint(20, 60),
                "name": f"{rng.choice(words).title()} {rng.choice(words).title()}",
                "tags": [rng.choice(words) for _ in range(rng.randint(2, 7))],
                "latitude": round(rng.uniform(-90, 90), 6),
                "longitude": round(rng.uniform(-180, 180), 6),
            }
        )
        i += 1
        if i % 50 == 0:
            out = json.dumps(rows, indent=2).encode()
    return json.dumps(rows, indent=2).encode()[:n]


def _bitmap(width=512, height=512) -> bytes:
    """An 8-bit greyscale BMP like the suite's lena512.bmp (263222 bytes):
    smooth shapes plus noise, so it compresses like a photograph."""
    rng = random.Random(1202)
    header = b"BM" + struct.pack("<IHHI", 1078 + width * height, 0, 0, 1078)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 0, width * height, 2835, 2835, 256, 0)
    palette = b"".join(bytes((g, g, g, 0)) for g in range(256))
    rows = bytearray()
    for y in range(height):
        for x in range(width):
            v = (x * 3 + y * 2) // 5 + int(40 * ((x - 256) ** 2 + (y - 200) ** 2 < 9000)) + rng.randint(-6, 6)
            rows.append(max(0, min(255, v)) & 0xFF)
    return header + info + palette + bytes(rows)


def _german_text(n: int) -> bytes:
    """Human-readable German text (sent as binary, like the suite's Faust)."""
    rng = random.Random(1203)
    words = (
        "Habe nun ach Philosophie Juristerei und Medizin und leider auch Theologie durchaus studiert "
        "mit heißem Bemühn da steh ich nun ich armer Tor und bin so klug als wie zuvor heiße Magister "
        "heiße Doktor gar und ziehe schon an die zehen Jahr herauf herab und quer und krumm meine "
        "Schüler an der Nase herum und sehe daß wir nichts wissen können das will mir schier das Herz "
        "verbrennen Zwar bin ich gescheiter als all die Laffen Doktoren Magister Schreiber und Pfaffen "
        "mich plagen keine Skrupel noch Zweifel fürchte mich weder vor Hölle noch Teufel"
    ).split()
    out = []
    size = 0
    while size < n:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 11)))
        line = line[0].upper() + line[1:] + rng.choice([".", ",", "!", "?", ";"]) + "\n"
        out.append(line)
        size += len(line.encode())
    return "".join(out).encode()[:n]


def _html(n: int) -> bytes:
    """A large HTML file (utf8, ASCII only)."""
    rng = random.Random(1204)
    parts = ["<!DOCTYPE html>\n<html><head><title>Report</title></head><body>\n<table>\n"]
    i = 0
    while sum(len(p) for p in parts) < n:
        parts.append(
            f'<tr class="row{i % 2}"><td><a href="/item/{i}">Item {i}</a></td>'
            f"<td>{rng.randint(0, 99999)}</td><td>{rng.choice(['ok', 'failed', 'pending'])}</td></tr>\n"
        )
        i += 1
    return "".join(parts).encode()[:n]


def _pdf(n: int) -> bytes:
    """A larger PDF (binary): text objects between compressed streams, so
    mostly incompressible with some structure."""
    rng = random.Random(1205)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    obj = 1
    while len(out) < n:
        raw = bytes(rng.getrandbits(8) if rng.random() < 0.7 else 32 for _ in range(rng.randint(2000, 9000)))
        stream = zlib.compress(raw, 6)
        out += f"{obj} 0 obj\n<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
        out += stream + b"\nendstream\nendobj\n"
        out += f"{obj + 1} 0 obj\n<< /Type /Page /Parent 3 0 R /Contents {obj} 0 R >>\nendobj\n".encode()
        obj += 2
    return bytes(out[:n])


_cache: dict[str, bytes] = {}


def case_data(name: str) -> bytes:
    makers = {
        "json_data1": lambda: _json_data(194056),
        "lena512": _bitmap,
        "gutenberg_faust": lambda: _german_text(222218),
        "html_data1": lambda: _html(83972),
        "ooms": lambda: _pdf(1042328),
    }
    if name not in _cache:
        _cache[name] = makers[name]()
    return _cache[name]


# The suite's 12.1 ... 12.5 (name, binary, description), in its report order.
DATA_SETS = [
    ("json_data1", False, "Large JSON data file (utf8)"),
    ("lena512", True, "Lena Picture, Bitmap 512x512 bw (binary)"),
    ("gutenberg_faust", True, "Human readable text, Goethe's Faust I (German) (binary)"),
    ("html_data1", False, "Large HTML file (utf8)"),
    ("ooms", True, "A larger PDF (binary)"),
]
