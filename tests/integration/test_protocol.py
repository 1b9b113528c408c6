"""RFC 6455 framing rules with hand-crafted frames over raw sockets."""
import os
import socket
import struct

import pytest

from parley_server import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawWS,
    close_payload,
    encode_frame,
    join_notice,
    leave_notice,
    unique_room,
)


def room(server, n=2):
    """n raw clients in a fresh room; every join notice already consumed."""
    path = f"/ws/{unique_room()}"
    clients = []
    for i in range(n):
        c = RawWS.open(server.port, path)
        for earlier in clients:
            assert earlier.recv_text() == join_notice(i + 1)
        clients.append(c)
    return clients


def expect_closed_with(client, code):
    got, _, before = client.expect_close()
    assert got == code, f"expected close {code}, got {got} (frames before: {before})"


# -- framing errors -----------------------------------------------------------


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_PING, OP_CLOSE])
def test_unmasked_client_frame_is_1002(server, opcode):
    (a,) = room(server, 1)
    payload = close_payload(1000) if opcode == OP_CLOSE else b"hi"
    a.send_frame(opcode, payload, mask=False)
    expect_closed_with(a, 1002)


@pytest.mark.parametrize("rsv", [1, 2, 4, 7])
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_PING])
def test_reserved_bits_are_1002(server, rsv, opcode):
    (a,) = room(server, 1)
    a.send_frame(opcode, b"hi", rsv=rsv)
    expect_closed_with(a, 1002)


def test_reserved_bit_on_a_continuation_is_1002(server):
    (a,) = room(server, 1)
    a.send_frame(OP_TEXT, b"he", fin=False)
    a.send_frame(OP_CONT, b"llo", rsv=4)
    expect_closed_with(a, 1002)


@pytest.mark.parametrize("opcode", [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_are_1002(server, opcode):
    (a,) = room(server, 1)
    a.send_frame(opcode, b"hi")
    expect_closed_with(a, 1002)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
def test_fragmented_control_frame_is_1002(server, opcode):
    (a,) = room(server, 1)
    a.send_frame(opcode, close_payload(1000) if opcode == OP_CLOSE else b"x", fin=False)
    expect_closed_with(a, 1002)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
def test_control_payload_over_125_is_1002(server, opcode):
    (a,) = room(server, 1)
    payload = close_payload(1000, "r" * 124) if opcode == OP_CLOSE else b"p" * 126
    assert len(payload) == 126
    a.send_frame(opcode, payload)
    expect_closed_with(a, 1002)


def test_continuation_without_start_is_1002(server):
    (a,) = room(server, 1)
    a.send_frame(OP_CONT, b"orphan")
    expect_closed_with(a, 1002)


def test_continuation_after_a_complete_message_is_1002(server):
    a, b = room(server)
    a.send_text("done")
    a.send_frame(OP_CONT, b"more")
    assert b.recv_text() == "done"
    expect_closed_with(a, 1002)


@pytest.mark.parametrize("second", [OP_TEXT, OP_BINARY])
def test_new_data_frame_mid_fragmentation_is_1002(server, second):
    a, b = room(server)
    a.send_frame(OP_TEXT, b"first half", fin=False)
    a.send_frame(second, b"intruder")
    expect_closed_with(a, 1002)
    assert b.recv_text() == leave_notice(1)  # nothing of the broken message leaked


def test_binary_message_in_chat_is_1003(server):
    a, b = room(server)
    a.send_frame(OP_BINARY, b"\x00\x01")
    expect_closed_with(a, 1003)
    assert b.recv_text() == leave_notice(1)


def test_fragmented_binary_message_in_chat_is_1003(server):
    (a,) = room(server, 1)
    a.send_frame(OP_BINARY, b"\x00", fin=False)
    a.send_frame(OP_CONT, b"\x01")
    expect_closed_with(a, 1003)


def test_64bit_length_with_the_high_bit_set_is_rejected(server):
    (a,) = room(server, 1)
    a.send(bytes([0x81, 0xFF]) + struct.pack("!Q", 1 << 63) + os.urandom(4))
    got, _, _ = a.expect_close()
    assert got in (1002, 1009)


# -- message size -------------------------------------------------------------


@pytest.mark.parametrize("declared", [1048577, 10 * 1024 * 1024, 2**32, 2**63 - 1])
def test_oversized_frame_header_is_1009_before_any_payload(server, declared):
    """Only the header is sent: the server must not wait for the payload."""
    (a,) = room(server, 1)
    a.send(encode_frame(OP_TEXT, b"", length=declared))
    expect_closed_with(a, 1009)


def test_fragments_adding_up_past_the_limit_are_1009_before_the_payload(start_server):
    srv = start_server("--max-message-size", "1000")
    a, b = room(srv)
    a.send_frame(OP_TEXT, b"x" * 600, fin=False)
    a.send(encode_frame(OP_CONT, b"", length=600))  # header only
    expect_closed_with(a, 1009)
    assert b.recv_text() == leave_notice(1)


def test_max_message_size_flag_boundary(start_server):
    srv = start_server("--max-message-size", "1000")
    a, b = room(srv)
    a.send_text("y" * 1000)
    assert b.recv_text() == "y" * 1000
    a.send_frame(OP_TEXT, b"z" * 500, fin=False)
    a.send_frame(OP_CONT, b"z" * 500)
    assert b.recv_text() == "z" * 1000
    a.send_text("w" * 1001)
    expect_closed_with(a, 1009)


def test_max_message_size_from_the_environment(start_server):
    srv = start_server(env={"PARLEY_MAX_MESSAGE_SIZE": "100"})
    a, b = room(srv)
    a.send_text("k" * 100)
    assert b.recv_text() == "k" * 100
    a.send_text("k" * 101)
    expect_closed_with(a, 1009)


# -- UTF-8 --------------------------------------------------------------------

INVALID_UTF8 = [
    b"\xff",
    b"\xc3\x28",  # bad continuation
    b"\xc0\xaf",  # overlong '/'
    b"\xe0\x80\xaf",  # overlong
    b"\xed\xa0\x80",  # UTF-16 surrogate
    b"\xf4\x90\x80\x80",  # > U+10FFFF
    b"\xf8\x88\x80\x80\x80",  # 5-byte form
    b"\x80",  # lone continuation
    b"hello\xe2\x82",  # truncated at the end of the message
]


@pytest.mark.parametrize("payload", INVALID_UTF8, ids=lambda p: p.hex())
def test_invalid_utf8_text_is_1007(server, payload):
    a, b = room(server)
    a.send_text(payload)
    expect_closed_with(a, 1007)
    assert b.recv_text() == leave_notice(1)


def test_invalid_utf8_split_across_fragments_is_1007(server):
    (a,) = room(server, 1)
    a.send_frame(OP_TEXT, b"ok \xe2\x82", fin=False)  # valid so far
    a.send_frame(OP_CONT, b"\x28 bad")  # E2 82 28 is invalid
    expect_closed_with(a, 1007)


def test_valid_utf8_split_across_fragments_is_delivered(server):
    a, b = room(server)
    euro = "€".encode()
    a.send_frame(OP_TEXT, b"5" + euro[:1], fin=False)
    a.send_frame(OP_CONT, euro[1:2], fin=False)
    a.send_frame(OP_CONT, euro[2:] + "😀".encode()[:2], fin=False)
    a.send_frame(OP_CONT, "😀".encode()[2:])
    assert b.recv_text() == "5€😀"


def test_utf8_fails_fast_without_the_rest_of_the_message(server):
    """The first fragment already contains an invalid byte; the message is
    never finished, yet the server must answer 1007."""
    (a,) = room(server, 1)
    a.send_frame(OP_TEXT, b"fine so far \xff", fin=False)
    expect_closed_with(a, 1007)


def test_utf8_fails_fast_inside_a_partially_sent_frame(server):
    """Only the start of a 100-byte frame is sent, with an invalid byte in it."""
    (a,) = room(server, 1)
    key = os.urandom(4)
    frame = encode_frame(OP_TEXT, b"abc\xff" + b"x" * 96, mask_key=key)
    a.send(frame[: 2 + 4 + 10])
    expect_closed_with(a, 1007)


# -- close handshake ------------------------------------------------------------

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_close_code_is_echoed(server, code):
    (a,) = room(server, 1)
    a.send_close(code, "bye")
    got, _, _ = a.expect_close(reply=False)
    assert got == code


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_close_code_is_1002(server, code):
    (a,) = room(server, 1)
    a.send_close(code)
    got, _, _ = a.expect_close(reply=False)
    assert got == 1002


def test_empty_close_is_answered(server):
    (a,) = room(server, 1)
    a.send_close()
    got, _, _ = a.expect_close(reply=False)
    assert got in (None, 1000)


def test_one_byte_close_payload_is_1002(server):
    (a,) = room(server, 1)
    a.send_frame(OP_CLOSE, b"\x03")
    got, _, _ = a.expect_close(reply=False)
    assert got == 1002


def test_close_reason_of_max_length_is_fine(server):
    (a,) = room(server, 1)
    a.send_close(1000, "é" * 61 + "x")  # 2 + 123 = 125 bytes
    got, _, _ = a.expect_close(reply=False)
    assert got == 1000


@pytest.mark.parametrize("reason", [b"\xff", b"ok\xc0\xaf", b"\xed\xa0\x80", b"cut\xe2\x82"], ids=lambda r: r.hex())
def test_invalid_utf8_close_reason_is_1007(server, reason):
    (a,) = room(server, 1)
    a.send_close(1000, reason)
    got, _, _ = a.expect_close(reply=False)
    assert got == 1007


def test_nothing_after_a_close_frame_is_processed(server):
    a, b = room(server)
    a.send(encode_frame(OP_CLOSE, close_payload(1000)) + encode_frame(OP_TEXT, b"ghost"))
    got, _, _ = a.expect_close(reply=False)
    assert got == 1000
    # The ghost would have arrived before the leave notice.
    assert b.recv_text() == leave_notice(1)


def test_close_mid_fragmentation_is_honoured(server):
    a, b = room(server)
    a.send_frame(OP_TEXT, b"never finished", fin=False)
    a.send_close(1000)
    got, _, _ = a.expect_close(reply=False)
    assert got == 1000
    assert b.recv_text() == leave_notice(1)


def test_abrupt_tcp_close_is_a_leave(server):
    a, b, c = room(server, 3)
    a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    a.close()  # RST
    assert b.recv_text() == leave_notice(2)
    assert c.recv_text() == leave_notice(2)


# -- ping / pong, split writes ------------------------------------------------------


@pytest.mark.parametrize("payload", [b"", b"p", os.urandom(125)], ids=["empty", "1", "125"])
def test_ping_gets_pong_with_same_payload(server, payload):
    (a,) = room(server, 1)
    a.send_frame(OP_PING, payload)
    f = a.recv_frame()
    assert (f.opcode, f.fin, f.payload, f.masked) == (OP_PONG, True, payload, False)


def test_ping_interleaved_between_fragments(server):
    a, b = room(server)
    a.send_frame(OP_TEXT, b"Hel", fin=False)
    a.send_frame(OP_PING, b"mid-1")
    a.send_frame(OP_CONT, b"lo, ", fin=False)
    a.send_frame(OP_PONG, b"unsolicited")
    a.send_frame(OP_PING, b"mid-2")
    a.send_frame(OP_CONT, b"world")
    f1, f2 = a.recv_frame(), a.recv_frame()
    assert (f1.opcode, f1.payload) == (OP_PONG, b"mid-1")
    assert (f2.opcode, f2.payload) == (OP_PONG, b"mid-2")
    assert b.recv_text() == "Hello, world"


def test_unsolicited_pong_is_ignored(server):
    a, b = room(server)
    a.send_frame(OP_PONG, b"nobody asked")
    a.send_text("after pong")
    assert b.recv_text() == "after pong"


def test_frame_written_one_byte_at_a_time(server):
    a, b = room(server)
    frame = encode_frame(OP_TEXT, "slowly, 慢慢地".encode())
    for i in range(len(frame)):
        a.send(frame[i : i + 1])
    assert b.recv_text() == "slowly, 慢慢地"


def test_many_frames_in_one_write(server):
    a, b = room(server)
    msgs = [f"batch {i}" for i in range(50)]
    a.send(b"".join(encode_frame(OP_TEXT, m.encode()) + encode_frame(OP_PING, b"x") for m in msgs))
    got = [b.recv_text() for _ in msgs]
    assert got == msgs
    pongs = [a.recv_frame() for _ in msgs]
    assert all(p.opcode == OP_PONG and p.payload == b"x" for p in pongs)


def test_length_encodings_16_and_64_bit(start_server):
    # Texts this long pass the chat only with a raised --max-text-bytes.
    a, b = room(start_server("--max-text-bytes", "100000"))
    for n in (126, 65535, 65536, 70000):
        a.send_text("m" * n)
        f = b.recv_frame()
        got = bytearray(f.payload)
        while not f.fin:
            f = b.recv_frame()
            assert f.opcode == OP_CONT
            got += f.payload
        assert bytes(got) == b"m" * n


def test_server_frames_are_unmasked_and_well_formed(server):
    a, b = room(server)
    a.send_text("check")
    f = b.recv_frame()
    assert (f.fin, f.rsv, f.opcode, f.masked, f.payload) == (True, 0, OP_TEXT, False, b"check")


def test_error_close_is_followed_by_tcp_close_without_a_reply(start_server):
    """The server fails the connection: close frame, then TCP close, even if
    the client never answers the close."""
    srv = start_server("--handshake-timeout", "1")
    (a,) = room(srv, 1)
    a.send_frame(OP_TEXT, b"x", mask=False)
    got, _, _ = a.expect_close(timeout=3, reply=False)
    assert got == 1002
