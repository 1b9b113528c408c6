"""Autobahn|Testsuite section 1, framing: text (1.1.x) and binary (1.2.x)
messages whose payload lengths sit on the 7-bit / 16-bit / 64-bit length
boundaries (0, 125, 126, 127, 128, 65535, 65536), and one 64 KiB message
written in chops of 997 bytes. The suite checks the message comes back
unchanged, with the same opcode, and a clean close with 1000 that the
client starts after the echo."""
import pytest

from autobahn_client import FuzzClient, echo_server, finish_client_close, message  # noqa: F401 (fixture)

LENGTHS = [0, 125, 126, 127, 128, 65535, 65536]

CASES = [
    pytest.param(binary, n, chop, id=f"case_1_{2 if binary else 1}_{i}")
    for binary in (False, True)
    for i, (n, chop) in enumerate([(n, None) for n in LENGTHS] + [(65536, 997)], start=1)
]


@pytest.mark.parametrize("binary,length,chop", CASES)
def test_echo_of_length(echo_server, request, binary, length, chop):
    """Text payload '*' * n, binary payload 0xfe * n; sent as one frame
    (chopped into 997-byte writes for 1.1.8 / 1.2.8)."""
    payload = (b"\xfe" if binary else b"*") * length
    with FuzzClient(echo_server.port) as c:
        c.send_message(payload, binary=binary, chop=chop)
        finish_client_close(c, [message(payload, binary)], label=request.node.callspec.id)
