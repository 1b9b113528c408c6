"""HTTP basics and the WebSocket handshake table, over raw sockets."""
import base64
import os

import pytest

from parley_server import RawWS, get, http_request, unique_room


# -- plain HTTP -------------------------------------------------------------


def test_index_page(server):
    r = get(server.port, "/")
    assert r.status == 200
    assert r.header("Content-Type").split(";")[0].strip() == "text/html"
    assert int(r.header("Content-Length")) == len(r.body) > 0
    assert b"<html" in r.body.lower()


def test_head_index_has_headers_but_no_body(server):
    full = get(server.port, "/")
    with RawWS(server.port) as c:
        c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head = c.read_http_response(body=False)
        assert head.status == 200
        assert head.header("Content-Type") == full.header("Content-Type")
        assert head.header("Content-Length") == str(len(full.body))
        # No body follows: the next request on the same connection is answered
        # right after the head (or the server closed, which also means no body).
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try:
            nxt = c.read_http_response()
        except Exception:
            nxt = None
        if nxt is not None:
            assert nxt.status == 200
        else:
            assert c.buf == b"", f"bytes after a HEAD response: {bytes(c.buf)[:80]!r}"


def test_healthz(server):
    assert get(server.port, "/healthz").status == 200


@pytest.mark.parametrize("path", ["/nope", "/index.htm", "/wss2", "/ws", "/healthz/x", "/.git/config"])
def test_unknown_path_is_404(server, path):
    assert get(server.port, path).status == 404


def test_post_is_405(server):
    r = http_request(server.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert r.status == 405
    assert "GET" in (r.header("Allow") or "")


def test_post_with_a_body_is_405(server):
    """A POST with a body is still the wrong method for /."""
    r = http_request(server.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    assert r.status == 405


@pytest.mark.parametrize(
    "line",
    [
        "GARBAGE",
        "GET",
        "GET /",
        "GET / HTTP/1.1 extra",
        "GET / FTP/1.0",
        "GET  / HTTP/1.1",
        "GET noslash HTTP/1.1",
        "\x00\x01\x02 / HTTP/1.1",
    ],
)
def test_malformed_request_line_is_400(server, line):
    assert http_request(server.port, f"{line}\r\nHost: x\r\n\r\n").status == 400


def test_header_section_over_8k_is_431(server):
    big = "X-Filler: " + "a" * 9000
    assert http_request(server.port, f"GET / HTTP/1.1\r\nHost: x\r\n{big}\r\n\r\n").status == 431


def test_many_small_headers_over_8k_is_431(server):
    hdrs = "".join(f"X-H{i}: {'v' * 90}\r\n" for i in range(100))
    assert http_request(server.port, f"GET / HTTP/1.1\r\nHost: x\r\n{hdrs}\r\n").status == 431


def test_header_section_just_under_8k_is_fine(server):
    filler = "X-Filler: " + "a" * 7000
    assert http_request(server.port, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{filler}\r\n\r\n").status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/../etc/passwd",
        "/../../../../../../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/..%2fetc%2fpasswd",
        "/static/../../etc/passwd",
        "//etc/passwd",
        "/....//....//etc/passwd",
        "/..\\..\\etc\\passwd",
        "/%00/etc/passwd",
    ],
)
def test_path_traversal_never_serves_files(server, path):
    r = get(server.port, path)
    assert r.status in (400, 403, 404), r.status
    assert b"root:" not in r.body


# -- handshake --------------------------------------------------------------


def upgrade(server, path=None, headers=None, method="GET"):
    with RawWS(server.port) as c:
        return c.upgrade(path or f"/ws/{unique_room()}", headers, method=method)


def test_valid_upgrade(server):
    r = upgrade(server)
    assert r.status == 101
    assert r.header("Upgrade").lower() == "websocket"
    assert "upgrade" in r.header("Connection").lower()
    assert r.header("Sec-WebSocket-Protocol") is None
    assert r.header("Sec-WebSocket-Extensions") is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Connection": "keep-alive, Upgrade"},
        {"Connection": "Upgrade, keep-alive"},
        {"Connection": "upgrade"},
        {"Upgrade": "WebSocket"},
        {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"},
    ],
)
def test_upgrade_variants_accepted(server, headers):
    r = upgrade(server, headers=headers)
    assert r.status == 101
    # Only an offered permessage-deflate is answered (test_deflate.py has the rest).
    offered = "Sec-WebSocket-Extensions" in headers
    answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12"
    assert r.header("Sec-WebSocket-Extensions") == (answer if offered else None)


def test_upgrade_on_wss_path(server):
    assert upgrade(server, "/wss").status == 101


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_non_get_upgrade_is_405(server, method):
    assert upgrade(server, method=method).status == 405


@pytest.mark.parametrize(
    "key",
    [
        None,  # missing
        "",
        "not base64!!",
        base64.b64encode(os.urandom(15)).decode(),
        base64.b64encode(os.urandom(17)).decode(),
        base64.b64encode(os.urandom(32)).decode(),
        "AAAAAAAAAAAAAAAAAAAAAA",  # 16 bytes but missing padding
    ],
)
def test_bad_key_is_400(server, key):
    assert upgrade(server, headers={"Sec-WebSocket-Key": key}).status == 400


@pytest.mark.parametrize("version", ["8", "7", "12", "14"])
def test_unsupported_version_is_426(server, version):
    r = upgrade(server, headers={"Sec-WebSocket-Version": version})
    assert r.status == 426
    assert r.header("Sec-WebSocket-Version") == "13"


def test_missing_upgrade_header_is_not_an_upgrade(server):
    r = upgrade(server, "/wss", headers={"Upgrade": None, "Connection": None})
    assert r.status != 101


@pytest.mark.parametrize("path", ["/ws/", "/ws/" + "a" * 65, "/ws/a%20b", "/ws/a/b", "/ws/a:b", "/nope", "/wss/x"])
def test_upgrade_to_unknown_path_is_404(server, path):
    assert upgrade(server, path).status == 404


def test_room_name_64_chars_ok(server):
    assert upgrade(server, "/ws/" + "aZ0._-" * 10 + "abcd").status == 101


def test_subprotocol_parley_v1_is_echoed(server):
    r = upgrade(server, headers={"Sec-WebSocket-Protocol": "parley.v1"})
    assert r.status == 101
    assert r.header("Sec-WebSocket-Protocol") == "parley.v1"


def test_subprotocol_chosen_from_a_list(server):
    r = upgrade(server, headers={"Sec-WebSocket-Protocol": "chat, parley.v1"})
    assert r.status == 101
    assert r.header("Sec-WebSocket-Protocol") == "parley.v1"


def test_unknown_subprotocol_is_omitted(server):
    r = upgrade(server, headers={"Sec-WebSocket-Protocol": "chat, superchat"})
    assert r.status == 101
    assert r.header("Sec-WebSocket-Protocol") is None


def test_request_split_into_tiny_writes(server):
    """The handshake may arrive one byte at a time."""
    key = base64.b64encode(os.urandom(16)).decode()
    req = (
        f"GET /ws/{unique_room()} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    with RawWS(server.port) as c:
        for i in range(len(req)):
            c.send(req[i : i + 1])
        assert c.read_http_response().status == 101
