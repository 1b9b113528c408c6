"""docs/DEPLOY.md's native TLS setups, for real, from the shipped files:

- the systemd unit with its TLS drop-in (deploy/systemd/parley.service +
  parley-tls.conf): the binary started with exactly the unit's environment
  (paths and ports substituted, every substitution checked), and its
  ExecReload= command run as `systemctl reload` would, which must reload the
  certificate without dropping the connected clients;
- native TLS behind a TCP load balancer: Debian's nginx with
  deploy/nginx/parley-stream.conf (stream {} proxy, no decryption) in front
  of Parley, clients verifying Parley's own certificate through it.

(The nginx TLS front is tests/integration/test_nginx_proxy.py.)"""
import asyncio
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import websockets

from parley_server import SOURCE_DIR, ParleyServer, join_notice, unique_room
from tls_pki import Pki, serial_of

NGINX = "/usr/sbin/nginx"
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
T = 10


def substitute(text: str, old: str, new: str, what: str) -> str:
    found = text.count(old)
    assert found == 1, f"{what}: expected 1x {old!r}, found {found}"
    return text.replace(old, new)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=T):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def handshake_serial(port, ctx) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=T) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.selected_alpn_protocol() == "http/1.1"
            return serial_of(s)


def unit_settings(path: Path) -> tuple[dict, list[str]]:
    """Environment= values and ExecReload= lines of a unit file or drop-in."""
    env, reload = {}, []
    for line in path.read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line[len("Environment="):].partition("=")
            env[key] = value
        elif line.startswith("ExecReload="):
            reload.append(line[len("ExecReload="):])
    return env, reload


@pytest.fixture(scope="module")
def pki():
    p = Pki()
    yield p
    p.remove()


def test_systemd_unit_with_tls_dropin_starts_and_reloads(pki, tmp_path):
    unit_env, reload = unit_settings(SOURCE_DIR / "deploy/systemd/parley.service")
    tls_env, _ = unit_settings(SOURCE_DIR / "deploy/systemd/parley-tls.conf")
    assert reload == ["/bin/kill -HUP $MAINPID"], reload
    env = {**unit_env, **tls_env}  # the drop-in wins, as in systemd
    # What the test changes, checked so the shipped values cannot drift.
    assert env.pop("PARLEY_HOST") == "0.0.0.0" and env.pop("PARLEY_PORT") == "443"
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    assert env["PARLEY_TLS_CERT"] == "/etc/parley/tls/fullchain.pem"
    assert env["PARLEY_TLS_KEY"] == "/etc/parley/tls/privkey.pem"
    env["PARLEY_TLS_CERT"], env["PARLEY_TLS_KEY"] = str(cert), str(key)
    env["PARLEY_DATA_DIR"] = substitute(env["PARLEY_DATA_DIR"], "%S", str(tmp_path / "state"), "PARLEY_DATA_DIR")
    chain_a, key_a = pki.server_cert(8001)
    chain_b, key_b = pki.server_cert(8002)
    shutil.copy(chain_a, cert)
    shutil.copy(key_a, key)
    os.chmod(key, 0o640)
    # ParleyServer adds --host 127.0.0.1 --port 0; the rest is the unit's environment.
    srv = ParleyServer(env=env)
    try:
        ctx = pki.client_context()
        assert srv.scheme == "https"
        assert handshake_serial(srv.port, ctx) == 8001

        async def chat_across_reload():
            room = unique_room("unit")
            url = f"wss://127.0.0.1:{srv.port}/ws/{room}"
            async with websockets.connect(url, ssl=ctx) as a, websockets.connect(url, ssl=ctx) as b:
                assert await asyncio.wait_for(a.recv(), T) == join_notice(2)
                # The renewal: new files in place, then `systemctl reload parley`.
                os.replace(shutil.copy(chain_b, str(cert) + ".new"), cert)
                os.replace(shutil.copy(key_b, str(key) + ".new"), key)
                command = reload[0].replace("$MAINPID", str(srv.proc.pid))
                subprocess.run(shlex.split(command), check=True, timeout=T)
                await asyncio.to_thread(wait_for, lambda: "TLS certificate reloaded" in srv.stderr, "the reload")
                assert await asyncio.to_thread(handshake_serial, srv.port, ctx) == 8002
                await a.send("still here after the reload")
                assert await asyncio.wait_for(b.recv(), T) == "still here after the reload"

        asyncio.run(chat_across_reload())
    finally:
        srv.save_log("test_deploy_tls_unit")
    srv.stop_clean()


@pytest.mark.skipif(not (os.path.exists(NGINX) and os.path.exists(STREAM_MODULE)),
                    reason="nginx with the stream module needed (apt-get install nginx-light libnginx-mod-stream)")
def test_native_tls_behind_a_tcp_load_balancer(pki):
    tmp = Path(tempfile.mkdtemp(prefix="parley-lb-"))
    os.chmod(tmp, 0o755)  # nginx workers run as nobody when the test runs as root
    chain, key = pki.server_cert(9009)
    srv = ParleyServer(["--tls-cert", chain, "--tls-key", key, "--history", "off"])
    lb_port = free_port()
    site = (SOURCE_DIR / "deploy/nginx/parley-stream.conf").read_text()
    what = "deploy/nginx/parley-stream.conf"
    site = substitute(site, "server 127.0.0.1:8443;", f"server 127.0.0.1:{srv.port};", what)
    site = substitute(site, "        listen 443;\n", f"        listen 127.0.0.1:{lb_port};\n", what)
    site = substitute(site, "        listen [::]:443;\n", "", what)
    (tmp / "parley-stream.conf").write_text(site)
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(f"""load_module {STREAM_MODULE};
{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
include {tmp}/parley-stream.conf;
""")
    nginx = subprocess.Popen([NGINX, "-c", str(tmp / "nginx.conf"), "-p", f"{tmp}/", "-e", str(tmp / "error.log")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def listening():
            assert nginx.poll() is None, f"nginx exited: {(tmp / 'error.log').read_text(errors='replace')}"
            try:
                socket.create_connection(("127.0.0.1", lb_port), timeout=0.5).close()
                return True
            except OSError:
                return False

        wait_for(listening, "nginx to listen")
        ctx = pki.client_context()
        # Through the balancer, the certificate is Parley's own: nginx only relays bytes.
        assert handshake_serial(lb_port, ctx) == 9009

        async def chat():
            room = unique_room("lb")
            through_lb = f"wss://127.0.0.1:{lb_port}/ws/{room}"
            direct = f"wss://127.0.0.1:{srv.port}/ws/{room}"
            async with websockets.connect(through_lb, ssl=ctx) as a, websockets.connect(direct, ssl=ctx) as b:
                assert await asyncio.wait_for(a.recv(), T) == join_notice(2)
                await b.send("to the client behind the balancer")
                assert await asyncio.wait_for(a.recv(), T) == "to the client behind the balancer"
                big = "y" * 3000
                await a.send(big)
                assert await asyncio.wait_for(b.recv(), T) == big

        asyncio.run(chat())
    finally:
        if nginx.poll() is None:
            nginx.send_signal(signal.SIGTERM)
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        srv.save_log("test_deploy_tls_lb")
        shutil.rmtree(tmp, ignore_errors=True)
    srv.stop_clean()
