"""GET /metrics: Prometheus text with the server's counters, summed over loops.
Metrics are not public by default (docs/SECURITY.md, "Metrics protection"):
these tests read them with the bearer token of --metrics-token-file."""
import os
import re
import urllib.request

from parley_server import ParleyServer, RawWS, join_notice


TOKEN = "metrics-test-token-0123456789"


def token_file(tmp_path):
    path = tmp_path / "metrics-token"
    path.write_text(TOKEN + "\n")
    os.chmod(path, 0o600)
    return str(path)


def scrape(port):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, value = line.split()
        values[name] = int(value)
    return text, values


def test_metrics_count_connections_and_messages(tmp_path):
    with ParleyServer(["--threads", "2", "--metrics-token-file", token_file(tmp_path)]) as server:
        text, before = scrape(server.port)
        assert "# TYPE parley_websocket_connections gauge" in text
        assert before["parley_event_loops"] == 2
        assert before["parley_websocket_connections"] == 0
        a = RawWS.open(server.port, "/ws/metrics")
        b = RawWS.open(server.port, "/ws/metrics")
        assert a.recv_text() == join_notice(2)
        _, during = scrape(server.port)
        assert during["parley_websocket_connections"] == 2
        assert during["parley_websocket_upgrades_total"] == before["parley_websocket_upgrades_total"] + 2
        a.send_text("hello")
        assert b.recv_text() == "hello"
        _, after = scrape(server.port)
        assert after["parley_messages_received_total"] >= before["parley_messages_received_total"] + 1
        assert re.search(r"parley_connections_accepted_total \d+", text)
