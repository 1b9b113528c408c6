"""Autobahn|Testsuite section 6, UTF-8 handling. Text messages must be
valid UTF-8; invalid ones fail the connection with 1007.
- 6.1: empty text messages, also as 3 empty fragments (echoed).
- 6.2: valid UTF-8 in one frame, split on and inside code points (echoed).
- 6.3: invalid UTF-8 in one frame and in 1-byte fragments (1007).
- 6.4: fail fast: the server must close with 1007 as soon as the bytes it
  has make the text invalid, not when the message (6.4.1, 6.4.2) or even the
  frame (6.4.3, 6.4.4) is complete. The suite waits 1 s after each part;
  OK is a close after the invalid part, NON-STRICT a close only after the
  whole message. We assert the close arrives while the rest is unsent.
- 6.5-6.23: Markus Kuhn's UTF-8 decoder tests, each payload sent as one
  text frame: valid ones are echoed, invalid ones get 1007."""
import os
import time

import pytest

from autobahn_client import (  # noqa: F401 (echo_server is a fixture)
    CLOSE_INVALID_PAYLOAD,
    FAIL_WITHIN,
    OP_CONT,
    OP_TEXT,
    FuzzClient,
    build_frame,
    echo_server,
    expect_server_fails,
    finish_client_close,
    frame_header,
    mask_bytes,
    message,
)

KAPPA = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # "kosme", with U+1F79 for the o
HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!".encode()

# -- 6.1 - 6.3 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fragments,expected",
    [
        pytest.param([b""], b"", id="case_6_1_1"),
        pytest.param([b"", b"", b""], b"", id="case_6_1_2"),
        pytest.param([b"", b"middle frame payload", b""], b"middle frame payload", id="case_6_1_3"),
        pytest.param([HELLO_UTF8], HELLO_UTF8, id="case_6_2_1"),
        pytest.param(["Hello-µ@ßöä".encode(), "üàá-UTF-8!!".encode()], HELLO_UTF8, id="case_6_2_2"),
        pytest.param([bytes([b]) for b in HELLO_UTF8], HELLO_UTF8, id="case_6_2_3"),
        pytest.param([bytes([b]) for b in KAPPA], KAPPA, id="case_6_2_4"),
    ],
)
def test_valid_text_in_fragments(echo_server, request, fragments, expected):
    """6.1.x empty payloads and fragments; 6.2.x valid UTF-8 whole, split on a
    code point boundary, and in 1-byte fragments."""
    with FuzzClient(echo_server.port) as c:
        for i, f in enumerate(fragments):
            c.send_frame(OP_TEXT if i == 0 else OP_CONT, f, fin=i == len(fragments) - 1)
        finish_client_close(c, [message(expected)], label=request.node.callspec.id)


# invalid exactly at byte 12 (0xa0: a UTF-16 surrogate)
INVALID_AT_12 = KAPPA + b"\xed\xa0\x80" + b"edited"


@pytest.mark.parametrize("frag", [pytest.param(None, id="case_6_3_1"), pytest.param(1, id="case_6_3_2")])
def test_invalid_text(echo_server, request, frag):
    """6.3.1 one frame, 6.3.2 1-byte fragments: 1007, nothing echoed."""
    with FuzzClient(echo_server.port) as c:
        c.send_message(INVALID_AT_12, frag_size=frag)
        expect_server_fails(c, [], CLOSE_INVALID_PAYLOAD, label=request.node.callspec.id)


# -- 6.4 fail fast -------------------------------------------------------------

# U+110000 in the UTF-8 integer scheme: out of range, invalid at its 2nd byte
# (byte 12 of the message).
FAIL_FAST = KAPPA + b"\xf4\x90\x80\x80" + b"edited"
SPLIT_AT_CODE_POINT = [FAIL_FAST[:11], FAIL_FAST[11:15], FAIL_FAST[15:]]
SPLIT_AT_BAD_BYTE = [FAIL_FAST[:12], FAIL_FAST[12:13], FAIL_FAST[13:]]
FIRST_PART_WAIT = 0.5  # the suite waits 1 s; a close here would fail the case


@pytest.mark.parametrize(
    "parts,as_frames",
    [
        pytest.param(SPLIT_AT_CODE_POINT, True, id="case_6_4_1"),
        pytest.param(SPLIT_AT_BAD_BYTE, True, id="case_6_4_2"),
        pytest.param(SPLIT_AT_CODE_POINT, False, id="case_6_4_3"),
        pytest.param(SPLIT_AT_BAD_BYTE, False, id="case_6_4_4"),
    ],
)
def test_fail_fast_on_invalid_utf8(echo_server, request, parts, as_frames):
    """6.4.1/6.4.2: three frames of one message; 6.4.3/6.4.4: three chops of
    one frame (header declares all 21 bytes). Part 1 is valid and accepted;
    part 2 makes the text invalid: the 1007 close must come before part 3."""
    label = request.node.callspec.id
    key = os.urandom(4)
    if as_frames:
        writes = [build_frame(OP_TEXT if i == 0 else OP_CONT, p, fin=i == 2) for i, p in enumerate(parts)]
    else:
        masked = mask_bytes(FAIL_FAST, key)
        cut1, cut2 = len(parts[0]), len(parts[0]) + len(parts[1])
        writes = [
            frame_header(OP_TEXT, len(FAIL_FAST), mask_key=key) + masked[:cut1],
            masked[cut1:cut2],
            masked[cut2:],
        ]
    with FuzzClient(echo_server.port) as c:
        c.send(writes[0])
        early = c.nothing_within(FIRST_PART_WAIT)
        assert early is None, f"{label}: part 1 ({parts[0].hex()}) is valid, but the server sent {early!r}"
        c.send(writes[1])
        t0 = time.monotonic()
        try:
            got = c.read_until_close(FAIL_WITHIN)
        except TimeoutError:
            got = "timeout"
        if got == "timeout":
            c.send(writes[2])
            try:
                late = c.read_until_close(FAIL_WITHIN)
            except TimeoutError:
                late = None
            raise AssertionError(
                f"{label}: no close within {FAIL_WITHIN}s of part 2 ({parts[1].hex()}) while part 3 "
                f"({parts[2].hex()}) was unsent; after part 3: {late!r} -> "
                f"{'NON-STRICT' if late else 'FAILED'}: {c.outcome!r}"
            )
        elapsed = time.monotonic() - t0
        assert got is not None, f"{label}: TCP closed without a close frame after part 2: {c.outcome!r}"
        assert c.outcome.events == [] and got.code == CLOSE_INVALID_PAYLOAD, (
            f"{label}: expected close 1007 after part 2 ({elapsed:.3f}s): {c.outcome!r}"
        )
        c.send(build_frame(0x8, got.raw[:2]))
        assert c.wait_tcp_close(), f"{label}: the server did not close TCP: {c.outcome!r}"


# -- 6.5 - 6.23: the UTF-8 decoder test sequences ----------------------------------


def _sequences():
    """(subsection, title, [payload, ...]) in the suite's order (6.5 ... 6.23)."""
    truncated = [
        b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80",
        b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf",
    ]  # fmt: skip
    high = [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf"]
    low = [b"\xed\xb0\x80", b"\xed\xbf\xbf"]
    lonely = [(0xC0, 0xDF), (0xE0, 0xEF), (0xF0, 0xF7), (0xF8, 0xFB), (0xFC, 0xFD)]
    non_chars = [0xFFFE, 0xFFFF] + [p * 0x10000 + c for p in range(1, 17) for c in (0xFFFE, 0xFFFF)]
    groups = [
        ("Some valid UTF-8 sequences",
         [b"hello$world", b"hello\xc2\xa2world", b"hello\xe2\x82\xacworld", b"hello\xf0\xa4\xad\xa2world", KAPPA]),
        ("All prefixes of a valid UTF-8 string with multi-byte code points",
         [KAPPA[:i] for i in range(1, len(KAPPA) + 1)]),
        ("First possible sequence of a certain length", [b"\x00", b"\xc2\x80", b"\xe0\xa0\x80", b"\xf0\x90\x80\x80"]),
        ("First possible sequence length 5/6 (invalid code points)",
         [b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]),
        ("Last possible sequence of a certain length", [b"\x7f", b"\xdf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf"]),
        ("Last possible sequence length 4/5/6 (invalid code points)",
         [b"\xf7\xbf\xbf\xbf", b"\xfb\xbf\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf\xbf"]),
        ("Other boundary conditions",
         [b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbd", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80"]),
        ("Unexpected continuation bytes",
         [b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80", b"\x80\xbf\x80\xbf", b"\x80\xbf\x80\xbf\x80",
          b"\x80\xbf\x80\xbf\x80\xbf", bytes(range(0x80, 0xBF))]),
        ("Lonely start characters", [b"".join(bytes([i, 0x20]) for i in range(lo, hi)) for lo, hi in lonely]),
        ("Sequences with last continuation byte missing", truncated),
        ("Concatenation of incomplete sequences", [b"".join(truncated)]),
        ("Impossible bytes", [b"\xfe", b"\xff", b"\xfe\xfe\xff\xff"]),
        ("Examples of an overlong ASCII character",
         [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xf8\x80\x80\x80\xaf", b"\xfc\x80\x80\x80\x80\xaf"]),
        ("Maximum overlong sequences",
         [b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf", b"\xf8\x87\xbf\xbf\xbf", b"\xfc\x83\xbf\xbf\xbf\xbf"]),
        ("Overlong representation of the NUL character",
         [b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xf8\x80\x80\x80\x80", b"\xfc\x80\x80\x80\x80\x80"]),
        ("Single UTF-16 surrogates", high + low[:1] + [b"\xed\xbe\x80"] + low[1:]),
        ("Paired UTF-16 surrogates", [h + l for h in high for l in low]),
        ("Non-character code points (valid UTF-8)", [chr(c).encode() for c in non_chars]),
        ("Unicode specials (i.e. replacement char)", [chr(c).encode() for c in range(0xFFF9, 0x10000)]),
    ]  # fmt: skip
    return [(5 + i, title, payloads) for i, (title, payloads) in enumerate(groups)]


def _valid(b: bytes) -> bool:
    try:
        b.decode("utf-8")  # strict RFC 3629: no surrogates, overlongs or > U+10FFFF
        return True
    except UnicodeDecodeError:
        return False


SEQUENCE_CASES = [
    pytest.param(payload, _valid(payload), id=f"case_6_{sub}_{j}")
    for sub, _title, payloads in _sequences()
    for j, payload in enumerate(payloads, start=1)
]
# Valid: all of 6.5, 6.7, 6.9, 6.22, 6.23; the 5 prefixes of 6.6 that end on a
# code point; 4 of the 5 in 6.11. Everything else is invalid.
assert len(SEQUENCE_CASES) == 132
assert sum(1 for p in SEQUENCE_CASES if p.values[1]) == 5 + 5 + 4 + 4 + 4 + 34 + 7


@pytest.mark.parametrize("payload,valid", SEQUENCE_CASES)
def test_utf8_sequence(echo_server, request, payload, valid):
    """One text frame: echoed if valid UTF-8, else 1007 (the suite gives the
    server 0.5 s)."""
    label = f"{request.node.callspec.id} payload {payload.hex()}"
    with FuzzClient(echo_server.port) as c:
        c.send_message(payload)
        if valid:
            finish_client_close(c, [message(payload)], label=label)
        else:
            expect_server_fails(c, [], CLOSE_INVALID_PAYLOAD, within=0.5, label=label)
