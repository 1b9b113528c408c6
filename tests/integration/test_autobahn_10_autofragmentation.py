"""Autobahn|Testsuite section 10.1.1, auto-fragmentation: the client sends
a 64 KiB text message split into frames of at most 1300 payload bytes (one
text frame and 50 continuations, the last one of 536 bytes). The suite
checks it sent that many frames, that the echo carries the whole payload,
and a clean close with 1000 that the client starts after the echo."""
from autobahn_client import OP_CONT, OP_TEXT, FuzzClient, echo_server, finish_client_close, message  # noqa: F401


def test_case_10_1_1(echo_server):
    payload = b"*" * 65536
    with FuzzClient(echo_server.port) as c:
        c.send_message(payload, frag_size=1300)
        assert c.frames_sent == {OP_TEXT: 1, OP_CONT: 50}, f"frames sent: {c.frames_sent}"
        finish_client_close(c, [message(payload)], label="10.1.1")
