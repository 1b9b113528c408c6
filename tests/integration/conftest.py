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


# --- scale-out on Redis (redis_harness.py) ----------------------------------------

@pytest.fixture
def redis():
    """A real redis-server on a free loopback port (AOF, appendfsync always)."""
    from redis_harness import RedisServer
    r = RedisServer()
    yield r
    r.stop()


@pytest.fixture
def nodes(request, redis):
    """The Parley nodes sharing `redis`, as the test module asks: REDIS_NODES
    nodes (default 3) named REDIS_NODE_PREFIX + index (default "n"), started
    with the module's ARGS. Each must exit 0 on SIGTERM unless the test
    killed it."""
    from redis_harness import start_nodes
    count = getattr(request.module, "REDIS_NODES", 3)
    prefix = getattr(request.module, "REDIS_NODE_PREFIX", "n")
    started = start_nodes(redis, count, prefix, *getattr(request.module, "ARGS", []))
    yield started
    for n in started:
        if n.proc.poll() is None:
            assert n.stop() == 0, n.stderr
