"""Autobahn|Testsuite section 9, limits and performance, against /echo
with --max-message-size 16 MiB. The suite checks each large message comes
back (it compares the length; we compare every byte) and a clean close
with 1000 that the client starts after the echo; it reports the time per
case. Our run records the time per case in the test output (not asserted).
- 9.1.x / 9.2.x: one text / binary frame of 64 KiB, 256 KiB, 1, 4, 8, 16 MiB.
- 9.3.x / 9.4.x: a 4 MiB text / binary message in fragments of 64 B ... 4 MiB.
- 9.5.x / 9.6.x: a 1 MiB text / binary frame written in chops of 64 ... 2048 B.
- 9.7.x / 9.8.x: 1000 text / binary round trips of 0 ... 4096 bytes, one
  message in flight at a time.
Every case of 9.1-9.8 runs: all together take a few seconds on the debug
(ASan) build."""
import time

import pytest

from autobahn_client import (  # noqa: F401 (fixtures)
    OP_BINARY,
    OP_TEXT,
    FuzzClient,
    build_frame,
    case_timings,
    echo_server,
    finish_client_close,
    message,
    repeat_to,
)

KiB, MiB = 1024, 1024 * 1024
TEXT_PATTERN, BINARY_PATTERN = b"BAsd7&jh23", b"\x00\xfe\x23\xfa\xf0"


def _payload(binary, n, fill=False):
    if fill:  # 9.3 / 9.4 use one repeated byte
        return (b"\xfe" if binary else b"*") * n
    return repeat_to(BINARY_PATTERN if binary else TEXT_PATTERN, n)


def _size(n):
    return f"{n // MiB} MiB" if n >= MiB else f"{n // KiB} KiB" if n >= KiB else f"{n} B"


def _run(port, timings, label, payload, binary, *, frag_size=None, chop=None, wait):
    with FuzzClient(port, timeout=wait) as c:
        t0 = time.monotonic()
        c.send_message(payload, binary=binary, frag_size=frag_size, chop=chop, pause=0)
        finish_client_close(c, [message(payload, binary)], timeout=wait, label=label)
        elapsed = time.monotonic() - t0
    how = f"{'binary' if binary else 'text'} {_size(len(payload))}"
    if frag_size:
        how += f" in {_size(frag_size)} fragments"
    if chop:
        how += f" in {chop} B chops"
    timings.add(label, how, elapsed)


SIZES = [64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB, 16 * MiB]
WAITS = [10, 10, 20, 60, 100, 100]  # the suite's WAITSECS


@pytest.mark.parametrize(
    "binary,size,wait",
    [
        pytest.param(binary, size, wait, id=f"case_9_{2 if binary else 1}_{i}")
        for binary in (False, True)
        for i, (size, wait) in enumerate(zip(SIZES, WAITS), 1)
    ],
)
def test_single_frame(echo_server, case_timings, request, binary, size, wait):
    """9.1.x text, 9.2.x binary: one frame of the given size."""
    label = request.node.callspec.id
    _run(echo_server.port, case_timings, label, _payload(binary, size), binary, wait=wait)


FRAGMENTS = [64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB]


@pytest.mark.parametrize(
    "binary,frag",
    [
        pytest.param(binary, frag, id=f"case_9_{4 if binary else 3}_{i}")
        for binary in (False, True)
        for i, frag in enumerate(FRAGMENTS, 1)
    ],
)
def test_fragmented(echo_server, case_timings, request, binary, frag):
    """9.3.x text, 9.4.x binary: 4 MiB in fragments of the given size."""
    label = request.node.callspec.id
    _run(echo_server.port, case_timings, label, _payload(binary, 4 * MiB, fill=True), binary, frag_size=frag, wait=100)


CHOPS = [64, 128, 256, 512, 1024, 2048]


@pytest.mark.parametrize(
    "binary,chop",
    [
        pytest.param(binary, chop, id=f"case_9_{6 if binary else 5}_{i}")
        for binary in (False, True)
        for i, chop in enumerate(CHOPS, 1)
    ],
)
def test_chopped(echo_server, case_timings, request, binary, chop):
    """9.5.x text, 9.6.x binary: one 1 MiB frame written in chops."""
    label = request.node.callspec.id
    _run(echo_server.port, case_timings, label, _payload(binary, 1 * MiB), binary, chop=chop, wait=100)


ROUND_TRIP_SIZES = [0, 16, 64, 256, 1024, 4096]


@pytest.mark.parametrize(
    "binary,size",
    [
        pytest.param(binary, size, id=f"case_9_{8 if binary else 7}_{i}")
        for binary in (False, True)
        for i, size in enumerate(ROUND_TRIP_SIZES, 1)
    ],
)
def test_round_trips(echo_server, case_timings, request, binary, size):
    """9.7.x text ('*' * n), 9.8.x binary (0xfe * n): 1000 messages, each
    sent when the previous echo is in."""
    label = request.node.callspec.id
    payload = (b"\xfe" if binary else b"*") * size
    frame_op = OP_BINARY if binary else OP_TEXT
    expected = message(payload, binary)
    with FuzzClient(echo_server.port) as c:
        t0 = time.monotonic()
        for i in range(1000):
            c.send(build_frame(frame_op, payload))
            got = c.read_until_close(60, until_events=i + 1)
            last = c.outcome.events[-1:]
            assert got is False and last == [expected], f"{label}: round trip {i}: {last!r}, close {got!r}"
        elapsed = time.monotonic() - t0
        c.outcome.events = [expected]
        finish_client_close(c, [expected], label=label)
    case_timings.add(label, f"1000 {'binary' if binary else 'text'} round trips of {size} B", elapsed)
