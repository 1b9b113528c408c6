"""pytest fixtures for the integration tests (see parley_server.py)."""
import pytest

from parley_server import ParleyServer


@pytest.fixture(scope="module")
def server(request):
    """One default server per test file, stopped with SIGTERM at the end (a
    non-zero exit fails the last test's teardown)."""
    srv = ParleyServer()
    yield srv
    srv.save_log(request.module.__name__)
    srv.stop_clean()


@pytest.fixture
def start_server(request):
    """Factory for servers with extra flags; each is stopped cleanly after
    the test (SIGTERM, exit code 0 required)."""
    started = []

    def start(*args, env=None):
        srv = ParleyServer(args, env=env)
        started.append(srv)
        return srv

    yield start
    failed = []
    for srv in started:
        srv.save_log(request.node.name)
        if srv.proc.poll() is None:
            code = srv.stop()
            if code != 0:
                failed.append(f"exit {code}: {srv.stderr}")
    assert not failed, failed
