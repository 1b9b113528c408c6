"""Autobahn|Testsuite section 13, permessage-deflate with different
parameters: the suite's seven client offers (as lists of offers, most
preferred first), each with the section 12 message sizes, the JSON test
data, against /echo. The answer must fit one of the offers (RFC 7692 §7.1,
checked by autobahn_deflate.check_answer), every echo must come back equal,
and compressed echoes must inflate with exactly the window the server
announced (or 32 KiB) and, without server_no_context_takeover, with the
context kept across messages.

Offers, as the suite writes them, (requestNoContextTakeover,
requestMaxWindowBits): 13.1 [(False, 0)]; 13.2 [(True, 0)]; 13.3 [(False, 8)];
13.4 [(False, 15)]; 13.5 [(True, 8)]; 13.6 [(True, 15)];
13.7 [(True, 8), (True, 0), (False, 0)]. Every offer also says the client
supports client_no_context_takeover and client_max_window_bits.

Each case runs against two servers: the default policy (--deflate on, which
adds server_no_context_takeover, so echoes are compressed without context)
and --deflate takeover (which keeps a compression context per connection
unless the offer asks otherwise). Message counts: see
autobahn_deflate.message_count.
"""
import pytest

from autobahn_client import SERVER_ARGS, case_timings  # noqa: F401 (fixtures)
from autobahn_deflate import MSG_SIZES, Offer, case_data, run_echo_case
from parley_server import ParleyServer

OFFERS = [
    [Offer()],
    [Offer(request_no_context_takeover=True)],
    [Offer(request_max_window_bits=8)],
    [Offer(request_max_window_bits=15)],
    [Offer(request_no_context_takeover=True, request_max_window_bits=8)],
    [Offer(request_no_context_takeover=True, request_max_window_bits=15)],
    [
        Offer(request_no_context_takeover=True, request_max_window_bits=8),
        Offer(request_no_context_takeover=True),
        Offer(),
    ],
]


@pytest.fixture(scope="module", params=["on", "takeover"])
def deflate_server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("parley-data")
    srv = ParleyServer([*SERVER_ARGS, "--deflate", request.param, "--data-dir", data_dir])
    srv.mode = request.param
    yield srv
    srv.save_log(f"{request.module.__name__}-{request.param}")
    srv.stop_clean()


CASES = [
    pytest.param(j, offers, size, count, wait, frag, id=f"case_13_{j}_{i}")
    for j, offers in enumerate(OFFERS, 1)
    for i, (size, count, wait, frag) in enumerate(MSG_SIZES, 1)
]


@pytest.mark.parametrize("section,offers,size,count,wait,frag", CASES)
def test_compressed_echo_with_offer(deflate_server, case_timings, request, section, offers, size, count, wait, frag):
    label = f"{request.node.callspec.id}"
    c = run_echo_case(
        deflate_server.port, label, offers, case_data("json_data1"), False, size, count, wait, frag, case_timings
    )
    a, offer = c.agreement, c.accepted_offer
    assert offer is offers[0], f"{label}: the server did not accept the first offer: {c.answer!r}"
    # Both policies confirm the client's hint and honour what it asks.
    assert a.client_no_context_takeover, c.answer
    if offer.request_max_window_bits:
        assert a.server_max_window_bits == offer.request_max_window_bits, c.answer
    if deflate_server.mode == "on":
        assert a.server_no_context_takeover, c.answer
    else:
        assert a.server_no_context_takeover == offer.request_no_context_takeover, c.answer
