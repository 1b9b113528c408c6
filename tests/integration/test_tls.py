"""Native TLS (--tls-cert/--tls-key) through the real binary, with Python's
`ssl` and python3-websockets as the clients and a throwaway CA made by
`openssl` (tls_pki.py): TLS 1.2 and 1.3, ALPN, refusals, plaintext on the TLS
port, startup errors, SIGHUP reload under load, permessage-deflate over TLS."""
import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest
import websockets

from parley_server import PARLEY_BIN, ParleyServer, unique_room
from tls_pki import Pki, serial_of

T = 10  # seconds: every wait is bounded


@pytest.fixture(scope="module")
def pki():
    p = Pki()
    yield p
    p.remove()


@pytest.fixture(scope="module")
def tls_server(pki):
    chain, key = pki.server_cert(1001)
    srv = ParleyServer(["--tls-cert", chain, "--tls-key", key, "--history", "off", "--threads", "2",
                        "--metrics-token-file", metrics_token_file()])
    assert srv.scheme == "https"
    yield srv
    srv.save_log("test_tls")
    srv.stop_clean()


def handshake(port, ctx, server_hostname="127.0.0.1"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=T)
    return ctx.wrap_socket(raw, server_hostname=server_hostname)


def https_get(port, ctx, path, headers=""):
    with handshake(port, ctx) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


# /metrics is not public by default (docs/SECURITY.md "Metrics protection").
METRICS_TOKEN = "tls-tests-metrics-token"


def metrics_token_file():
    path = os.path.join(tempfile.mkdtemp(prefix="parley-metrics-"), "token")
    with open(path, "w") as f:
        f.write(METRICS_TOKEN)
    return path


def metrics(port, ctx):
    _, body = https_get(port, ctx, "/metrics", f"Authorization: Bearer {METRICS_TOKEN}\r\n")
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = int(value)
    return values


FAIL = 'parley_tls_handshake_failures_total{reason="%s"}'


def wait_for(predicate, what, timeout=T):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_versions_alpn_and_chat(pki, tls_server, version):
    ctx = pki.client_context(version)
    with handshake(tls_server.port, ctx) as s:
        assert s.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        assert s.selected_alpn_protocol() == "http/1.1"
        assert serial_of(s) == 1001
        assert "GCM" in s.cipher()[0] or "CHACHA20" in s.cipher()[0]
    head, body = https_get(tls_server.port, ctx, "/healthz")
    assert head.startswith("HTTP/1.1 200") and b'"ok"' in body

    async def chat():
        room = unique_room("tls")
        url = f"wss://127.0.0.1:{tls_server.port}/ws/{room}"
        async with websockets.connect(url, ssl=ctx, compression=None) as a:
            async with websockets.connect(url, ssl=ctx, compression=None) as b:
                # The seed's notice goes to the others: a hears that b joined.
                assert (await asyncio.wait_for(a.recv(), T)).endswith("2人")
                big = "x" * 100_000  # several records each way
                await a.send("hello over " + str(version))
                assert await asyncio.wait_for(b.recv(), T) == "hello over " + str(version)
                await b.send(big)
                # The text limit (4000 bytes) refuses it: the sender is told.
                assert (await asyncio.wait_for(b.recv(), T)).startswith("系统通知")

    asyncio.run(chat())


def test_alpn_without_http11_and_old_versions_are_refused(pki, tls_server):
    good = pki.client_context()
    before = metrics(tls_server.port, good)
    with pytest.raises(ssl.SSLError, match="NO_APPLICATION_PROTOCOL|no application protocol"):
        handshake(tls_server.port, pki.client_context(alpn=("h2",))).close()
    # No ALPN at all is fine (curl --no-alpn, older clients).
    with handshake(tls_server.port, pki.client_context(alpn=())) as s:
        assert s.selected_alpn_protocol() is None
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(pki.ca_cert))
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError):
        handshake(tls_server.port, old).close()
    after = metrics(tls_server.port, good)
    assert after[FAIL % "protocol"] >= before[FAIL % "protocol"] + 2


def test_plaintext_on_the_tls_port_is_refused_and_counted(pki, tls_server):
    ctx = pki.client_context()
    before = metrics(tls_server.port, ctx)
    # An HTTP request: a plain 400 that says why, then the end.
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=T) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 ") and b"TLS" in data
    # Anything else: cut.
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=T) as s:
        s.sendall(b"\x00\x01garbage" * 100)
        s.settimeout(T)
        try:
            assert s.recv(4096) == b""
        except ConnectionResetError:
            pass
    # A handshake that never finishes is counted once it ends.
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=T) as s:
        s.sendall(b"\x16\x03\x01\x00")  # the start of a record, and silence
    after = {}

    def counted():
        after.update(metrics(tls_server.port, ctx))
        return after[FAIL % "not_tls"] >= before[FAIL % "not_tls"] + 2 and (
            after[FAIL % "incomplete"] >= before[FAIL % "incomplete"] + 1)

    wait_for(counted, "the failed handshakes in /metrics")
    assert after["parley_tls_handshakes_total"] > before["parley_tls_handshakes_total"]
    assert tls_server.proc.poll() is None


def run_parley(*args):
    return subprocess.run([PARLEY_BIN, "--host", "127.0.0.1", "--port", "0", "--history", "off", *map(str, args)],
                          capture_output=True, text=True, timeout=30)


def test_bad_certificate_or_key_at_start_is_a_clear_error(pki, tmp_path):
    chain, key = pki.server_cert(3003)
    _, other_key = pki.server_cert(3004)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    data = tmp_path / "d"
    r = run_parley("--data-dir", data, "--tls-cert", garbage, "--tls-key", key)
    assert r.returncode != 0 and f"--tls-cert {garbage}" in r.stderr, r.stderr
    r = run_parley("--data-dir", data, "--tls-cert", chain, "--tls-key", other_key)
    assert r.returncode != 0 and "does not match" in r.stderr, r.stderr
    r = run_parley("--data-dir", data, "--tls-cert", chain, "--tls-key", tmp_path / "missing.pem")
    assert r.returncode != 0 and "--tls-key" in r.stderr, r.stderr
    r = run_parley("--data-dir", data, "--tls-cert", chain)
    assert r.returncode == 2 and "--tls-cert and --tls-key go together" in r.stderr, r.stderr


def test_plain_port_beside_tls(pki, tmp_path):
    chain, key = pki.server_cert(4004)
    with ParleyServer(["--tls-cert", chain, "--tls-key", key, "--plain-port", "0", "--history", "off"]) as srv:
        assert srv.plain_port and srv.plain_port != srv.port
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.plain_port}/healthz", timeout=T) as r:
            assert r.status == 200
        head, _ = https_get(srv.port, pki.client_context(), "/healthz")
        assert head.startswith("HTTP/1.1 200")


def test_sighup_without_tls_keeps_serving():
    with ParleyServer(["--history", "off"]) as srv:
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "no TLS certificate to reload" in srv.stderr, "the SIGHUP log line")
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/healthz", timeout=T) as r:
            assert r.status == 200


def test_sighup_reloads_the_certificate_under_load(pki, tmp_path):
    """Clients keep chatting across two reloads (a good one, then a broken
    file); new handshakes see the new certificate, then keep it."""
    chain_a, key_a = pki.server_cert(5001)
    chain_b, key_b = pki.server_cert(5002)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(chain_a, cert)
    shutil.copy(key_a, key)
    srv = ParleyServer(["--tls-cert", cert, "--tls-key", key, "--history", "off", "--threads", "2"])
    ctx = pki.client_context()

    def install(src_chain, src_key):
        # As certbot does: new files renamed into place.
        for src, dst in ((src_chain, cert), (src_key, key)):
            shutil.copy(src, str(dst) + ".new")
            os.replace(str(dst) + ".new", dst)

    def new_serial():
        with handshake(srv.port, ctx) as s:
            return serial_of(s)

    async def scenario():
        room = unique_room("reload")
        url = f"wss://127.0.0.1:{srv.port}/ws/{room}"
        clients = [await websockets.connect(url, ssl=ctx) for _ in range(6)]
        for c in clients:
            assert serial_of(c.transport.get_extra_info("ssl_object")) == 5001
        sent = {i: 0 for i in range(len(clients))}
        got = {i: [] for i in range(len(clients))}
        stop = asyncio.Event()

        async def talk(i, c):
            while not stop.is_set():
                await c.send(f"{i}:{sent[i]}")
                sent[i] += 1
                await asyncio.sleep(0.03)

        async def listen(i, c):
            async for text in c:
                if not text.startswith("系统通知"):
                    got[i].append(text)

        listeners = [asyncio.create_task(listen(i, c)) for i, c in enumerate(clients)]
        talkers = [asyncio.create_task(talk(i, c)) for i, c in enumerate(clients)]
        await asyncio.sleep(0.5)
        install(chain_b, key_b)
        srv.proc.send_signal(signal.SIGHUP)
        await asyncio.to_thread(wait_for, lambda: "TLS certificate reloaded" in srv.stderr, "the reload")
        assert await asyncio.to_thread(new_serial) == 5002
        await asyncio.sleep(0.5)
        (tmp_path / "cert.pem").write_text("not a certificate\n")
        srv.proc.send_signal(signal.SIGHUP)
        await asyncio.to_thread(wait_for, lambda: "TLS certificate not reloaded" in srv.stderr, "the refusal")
        assert await asyncio.to_thread(new_serial) == 5002
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*talkers)
        total = sum(sent.values())

        def complete():
            return all(len(got[i]) == total - sent[i] for i in got)

        deadline = time.monotonic() + T
        while not complete() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for i, c in enumerate(clients):
            # Still the first certificate's connection, and nothing lost.
            assert serial_of(c.transport.get_extra_info("ssl_object")) == 5001
            assert len(got[i]) == total - sent[i], (i, len(got[i]), total - sent[i])
            for j in sent:
                if j != i:
                    assert [m for m in got[i] if m.startswith(f"{j}:")] == [f"{j}:{n}" for n in range(sent[j])]
        for c in clients:
            await c.close()
        await asyncio.gather(*listeners)
        return total

    try:
        total = asyncio.run(scenario())
        assert total > 6 * 20
        assert srv.proc.poll() is None
    finally:
        srv.save_log("test_tls_reload")
    srv.stop_clean()


def test_permessage_deflate_over_tls(pki, tls_server):
    ctx = pki.client_context()

    async def run():
        room = unique_room("tlsdeflate")
        url = f"wss://127.0.0.1:{tls_server.port}/ws/{room}"
        async with websockets.connect(url, ssl=ctx) as a, websockets.connect(url, ssl=ctx) as b:
            assert "permessage-deflate" in (a.response_headers.get("Sec-WebSocket-Extensions") or "")
            assert (await asyncio.wait_for(a.recv(), T)).endswith("2人")  # b is in
            text = "compressible chat line " * 150  # 3450 bytes, under the text limit
            await a.send(text)
            assert await asyncio.wait_for(b.recv(), T) == text

    asyncio.run(run())
