"""deploy/nginx/parley.conf, for real: Debian's nginx with a throwaway
self-signed certificate in front of Parley, driven by python-websockets over
wss://. Only the ports, paths and certificate are substituted into the
config; every substitution is checked so the shipped file cannot drift away
from what is tested."""
import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pytest
import websockets

from parley_server import SOURCE_DIR, ParleyServer, get, join_notice, leave_notice, unique_room

NGINX = "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
T = 10

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason=f"{NGINX} not installed (apt-get install nginx-light)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitute(text: str, old: str, new: str, count: int = 1) -> str:
    found = text.count(old)
    assert found == count, f"deploy/nginx/parley.conf: expected {count}x {old!r}, found {found}"
    return text.replace(old, new)


def wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 10.0):
    """Poll until `port` accepts a connection (bounded), failing early if
    nginx exits."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx not listening on {port} after {timeout}s") from None
            time.sleep(0.05)


class Stack:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.http_port = free_port()
        self.https_port = free_port()
        self.cert = tmp / "cert.pem"
        self.key = tmp / "key.pem"
        subprocess.run(
            [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(self.key), "-out", str(self.cert), "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True, timeout=30,
        )
        # Large messages through the proxy: the chat's text limit raised to match.
        # As deploy/nginx/parley.conf says: nginx (127.0.0.1) is a trusted
        # proxy. Metrics are served on Parley's port with a token here, to
        # show that nginx does not pass /metrics on even to a client holding it.
        self.metrics_token = "nginx-test-metrics-token"
        token_file = tmp / "metrics-token"
        token_file.write_text(self.metrics_token + "\n")
        self.parley = ParleyServer(["--max-text-bytes", "1048576", "--trusted-proxies", "127.0.0.1",
                                    "--metrics-token-file", str(token_file)])
        self.error_log = tmp / "error.log"
        self.conf = tmp / "nginx.conf"
        self.conf.write_text(self.render())
        self.nginx = subprocess.Popen(
            [NGINX, "-c", str(self.conf), "-p", f"{tmp}/", "-e", str(self.error_log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(tmp / "nginx.stderr", "wb"),
        )
        wait_listening(self.https_port, self.nginx, self.error_log)
        wait_listening(self.http_port, self.nginx, self.error_log)

    def render(self) -> str:
        site = (SOURCE_DIR / "deploy/nginx/parley.conf").read_text()
        site = substitute(site, "server 127.0.0.1:8080;", f"server 127.0.0.1:{self.parley.port};")
        site = substitute(site, "    listen 80;\n", f"    listen 127.0.0.1:{self.http_port};\n")
        site = substitute(site, "    listen [::]:80;\n", "")
        site = substitute(site, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{self.https_port} ssl http2;\n")
        site = substitute(site, "    listen [::]:443 ssl http2;\n", "")
        site = substitute(site, "return 301 https://$host$request_uri;",
                          f"return 301 https://$host:{self.https_port}$request_uri;")
        site = substitute(site, "/etc/ssl/parley/fullchain.pem", str(self.cert))
        site = substitute(site, "/etc/ssl/parley/privkey.pem", str(self.key))
        site = substitute(site, "/var/log/nginx/parley-error.log", str(self.error_log))
        site_file = self.tmp / "parley.conf"
        site_file.write_text(site)
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        t = self.tmp
        return f"""{user}daemon off;
master_process on;
worker_processes 1;
pid {t}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 256; }}
http {{
    access_log {t}/access.log;
    client_body_temp_path {t}/client_body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    include /etc/nginx/mime.types;
    include {site_file};
}}
"""

    def logs(self) -> str:
        out = []
        for name in ("error.log", "nginx.stderr", "access.log"):
            p = self.tmp / name
            if p.exists():
                out.append(f"--- {name} ---\n{p.read_text(errors='replace')[-4000:]}")
        out.append(f"--- parley stderr ---\n{self.parley.stderr[-4000:]}")
        return "\n".join(out)

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.cert))
        return ctx

    def wss(self, path: str) -> str:
        return f"wss://127.0.0.1:{self.https_port}{path}"

    def stop(self):
        if self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        self.parley.stop_clean()


@pytest.fixture(scope="module")
def stack():
    tmp = Path(tempfile.mkdtemp(prefix="parley-nginx-"))
    os.chmod(tmp, 0o755)  # nginx workers run as nobody when the test runs as root
    s = Stack(tmp)
    yield s
    try:
        s.stop()
    finally:
        s.parley.save_log("test_nginx_proxy")
        artifacts = os.environ.get("PARLEY_ARTIFACTS")
        if artifacts:
            shutil.copytree(tmp, Path(artifacts) / "nginx", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("key.pem", "*_temp", "client_body", "proxy",
                                                          "fastcgi", "uwsgi", "scgi"))
        shutil.rmtree(tmp, ignore_errors=True)


def https_get(stack, path, extra=""):
    ctx = stack.ssl_context()
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=T) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def test_http_redirects_to_https(stack):
    r = get(stack.http_port, "/wss?from=http")
    assert r.status == 301, stack.logs()
    assert r.header("Location") == f"https://127.0.0.1:{stack.https_port}/wss?from=http"
    r = get(stack.http_port, "/")
    assert r.status == 301
    assert r.header("Location") == f"https://127.0.0.1:{stack.https_port}/"


def test_page_and_health_through_tls(stack):
    status, headers, body = https_get(stack, "/")
    assert status == 200, stack.logs()
    assert headers["content-type"].startswith("text/html")
    assert b"<html" in body.lower()
    status, _, _ = https_get(stack, "/healthz")
    assert status == 200
    status, _, _ = https_get(stack, "/no-such-page")
    assert status == 404


def test_tls_versions(stack):
    for version, ok in ((ssl.TLSVersion.TLSv1_2, True), (ssl.TLSVersion.TLSv1_3, True), (ssl.TLSVersion.TLSv1_1, False)):
        ctx = stack.ssl_context()
        if not ok:
            # The client has to be allowed to offer the old version at all.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1_1 is deprecated: that's the point
            ctx.minimum_version = version
            ctx.maximum_version = version
        with socket.create_connection(("127.0.0.1", stack.https_port), timeout=T) as raw:
            if ok:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    assert s.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
            else:
                with pytest.raises(ssl.SSLError):
                    ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def test_chat_through_nginx_wss(stack):
    async def scenario():
        ctx = stack.ssl_context()
        async with websockets.connect(stack.wss("/wss"), ssl=ctx) as a:
            async with websockets.connect(stack.wss("/wss"), ssl=ctx) as b:
                assert await asyncio.wait_for(a.recv(), T) == join_notice(2)
                await a.send("你好 through nginx")
                assert await asyncio.wait_for(b.recv(), T) == "你好 through nginx"
                await b.send("reply through nginx")
                assert await asyncio.wait_for(a.recv(), T) == "reply through nginx"
                big = "z" * 200000
                await b.send(big)
                assert await asyncio.wait_for(a.recv(), T) == big
                pong = await b.ping(b"through-proxy")
                await asyncio.wait_for(pong, T)
            assert await asyncio.wait_for(a.recv(), T) == leave_notice(1)

    try:
        asyncio.run(scenario())
    except BaseException:
        print(stack.logs())
        raise


def test_named_room_through_nginx(stack):
    room = unique_room()

    async def scenario():
        ctx = stack.ssl_context()
        async with websockets.connect(stack.wss(f"/ws/{room}"), ssl=ctx) as a, \
                websockets.connect(stack.wss("/wss"), ssl=ctx) as lobby:
            async with websockets.connect(stack.wss(f"/ws/{room}"), ssl=ctx) as b:
                assert await asyncio.wait_for(a.recv(), T) == join_notice(2)
                await b.send("room only")
                assert await asyncio.wait_for(a.recv(), T) == "room only"
            assert await asyncio.wait_for(a.recv(), T) == leave_notice(1)
            # The lobby client saw nothing of the room: its next message is
            # the notice of the next lobby join.
            async with websockets.connect(stack.wss("/ws/lobby"), ssl=ctx):
                assert await asyncio.wait_for(lobby.recv(), T) == join_notice(2)

    asyncio.run(scenario())


def test_close_code_passes_through_nginx(stack):
    async def scenario():
        ws = await websockets.connect(stack.wss(f"/ws/{unique_room()}"), ssl=stack.ssl_context())
        await ws.close(4000, "bye")
        assert ws.close_rcvd is not None and ws.close_rcvd.code == 4000

    asyncio.run(scenario())


def test_web_client_endpoint_ws_upgrades_without_a_redirect(stack):
    """The web client connects to /ws (exact): 101 through nginx, never the
    301 a lone `location /ws/` would answer."""
    async def scenario():
        ctx = stack.ssl_context()
        async with websockets.connect(stack.wss("/ws"), ssl=ctx, subprotocols=["parley.v1"]) as c:
            assert c.subprotocol == "parley.v1"
            await c.send('{"type":"hello","name":"через nginx"}')
            welcome = await asyncio.wait_for(c.recv(), T)
            assert '"type":"welcome"' in welcome

    try:
        asyncio.run(scenario())
    except BaseException:
        print(stack.logs())
        raise
    for path in ("/ws", "/wss", "/ws/room-1"):
        status, headers, _ = https_get(stack, path)
        assert status != 301 and "location" not in headers, (path, status, headers)


def test_browser_origin_through_nginx(stack):
    """nginx sends `Host $host` (no port); the browser's Origin keeps it. Our
    own page's origin is allowed, another site's is refused before 101."""
    async def scenario():
        ctx = stack.ssl_context()
        ours = f"https://127.0.0.1:{stack.https_port}"
        async with websockets.connect(stack.wss("/ws/lobby"), ssl=ctx, origin=ours):
            pass
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
            await websockets.connect(stack.wss("/ws/lobby"), ssl=ctx, origin="https://evil.example")
        assert refused.value.status_code == 403

    asyncio.run(scenario())


def test_metrics_not_reachable_through_nginx(stack):
    # Parley itself serves them to the token holder...
    r = get(stack.parley.port, "/metrics", headers={"Authorization": f"Bearer {stack.metrics_token}"})
    assert r.status == 200
    # ...nginx does not pass /metrics on, however it is spelled.
    for path in ("/metrics", "/metrics?x=1", "//metrics", "/%6detrics"):
        status, _, body = https_get(stack, path, f"Authorization: Bearer {stack.metrics_token}\r\n")
        assert status == 404, (path, status)
        assert b"parley_" not in body, path
