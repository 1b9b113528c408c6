"""Autobahn|Testsuite section 12, permessage-deflate with different
payloads, against /echo with the server's default policy: the client makes
the suite's default offer ("permessage-deflate; client_no_context_takeover;
client_max_window_bits"), which the server must accept, then sends
compressed messages of 16 B ... 128 KiB, each a slice of the case's test
data going round it, optionally auto-fragmented into frames of 256 B ...
32 KiB of compressed payload, each once the previous echo came back equal;
then a clean close with 1000. The echo may come back compressed or not, as
the server chooses; compressed, it must inflate with the agreed window.

- 12.1.x Large JSON data file (utf8)        - 12.2.x Lena Picture, 512x512 bitmap (binary)
- 12.3.x Goethe's Faust I, German (binary)  - 12.4.x Large HTML file (utf8)
- 12.5.x A larger PDF (binary)
The suite's test files are not shipped; autobahn_deflate.py generates
stand-ins of the same size and nature. Message counts: see
autobahn_deflate.message_count (PARLEY_AUTOBAHN_FULL=1 for the suite's 1000).
"""
import pytest

from autobahn_client import case_timings, echo_server  # noqa: F401 (fixtures)
from autobahn_deflate import DATA_SETS, MSG_SIZES, Offer, case_data, run_echo_case

CASES = [
    pytest.param(name, binary, size, count, wait, frag, id=f"case_12_{j}_{i}")
    for j, (name, binary, _) in enumerate(DATA_SETS, 1)
    for i, (size, count, wait, frag) in enumerate(MSG_SIZES, 1)
]


@pytest.mark.parametrize("name,binary,size,count,wait,frag", CASES)
def test_compressed_echo(echo_server, case_timings, request, name, binary, size, count, wait, frag):
    label = request.node.callspec.id
    c = run_echo_case(
        echo_server.port, label, [Offer()], case_data(name), binary, size, count, wait, frag, case_timings
    )
    # The server's default answer to the suite's default offer.
    assert c.answer == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12"
    ), c.answer
