"""The real system for e2e and browser tests: `flask up` (sandbox, gunicorn, RQ worker, scheduler) on free
ports, sharing the session's Redis (own key prefix) and a database of its own."""
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import requests

from tests.conftest import RUN_ID, delete_prefixed
from tools.http_client import Api

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _postgres_database(base_url: str, name: str, create: bool) -> str:
    parts = urlsplit(base_url)
    admin = psycopg2.connect(urlunsplit(parts._replace(path='/postgres')))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # a connection a crashed process left
        if create:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunsplit(parts._replace(path=f'/{name}'))


def system_env(tmp_root: Path, redis_url: str, name: str, **overrides) -> dict:
    """Environment for one running system: its own data dir, database, key prefix and ports."""
    data_dir = tmp_root / name
    data_dir.mkdir()
    base_db = os.environ.get('DATABASE_URL')
    env = {k: v for k, v in os.environ.items() if not k.startswith('FLASK_RUN')}
    env.update(
        DATA_DIR=str(data_dir), REDIS_URL=redis_url, KEY_PREFIX=f'pktest{RUN_ID}:{name}:',
        DATABASE_URL=(_postgres_database(base_db, f'pinke_{name}_{RUN_ID}', True) if base_db
                      else f'sqlite:///{data_dir}/{name}.db'),
        PORT=str(free_port()), SANDBOX_PORT=str(free_port()), ADMIN_TOKEN='adm_' + secrets.token_hex(8),
        SECRET_KEY=secrets.token_hex(16), PAY_WINDOW_S='3', SCHEDULER_POLL_S='0.1', SWEEP_INTERVAL_S='2',
        SANDBOX_NOTIFY_RETRY_S='0.3,0.5,1,2,4', SANDBOX_REFUND_DELAY_S='0.2', REFUND_RETRY_S='1,1',
        REFUND_MAX_ATTEMPTS='3', NOTIFY_RETRY_S='1,1', QUIET_HOURS='', BROADCAST_RATE_PER_S='50',
        WEB_WORKERS='2', WEB_THREADS='32', PYTHONUNBUFFERED='1', PROMETHEUS_MULTIPROC_DIR=str(data_dir / 'metrics'))
    # Every client of these tests is this machine: an address limit would count the whole suite as one client.
    # The per-user and per-device rate limits stay on (tests/integration/test_rate_limits.py tests them all).
    env.update({name: '' for name in ('RATE_LIMIT_LOGIN_IP', 'RATE_LIMIT_OPEN_IP', 'RATE_LIMIT_JOIN_IP',
                                      'RATE_LIMIT_SHARE_IP', 'RATE_LIMIT_BOT_REFUSED_IP')})
    env.update(overrides)
    return env


def drop_system_db(env: dict, name: str) -> None:
    if os.environ.get('DATABASE_URL'):
        _postgres_database(os.environ['DATABASE_URL'], f'pinke_{name}_{RUN_ID}', False)


@pytest.fixture(scope='session')
def stack_env(tmp_root, redis_url):
    env = system_env(tmp_root, redis_url, 'e2e')
    yield env
    drop_system_db(env, 'e2e')


@pytest.fixture(scope='session')
def stack(stack_env, tmp_root, redis_client):
    with running_stack(stack_env, tmp_root / 'e2e', redis_client) as api:
        yield api
        # After every e2e and browser test has used this system: the money invariants hold for all of it
        # (a refund may still be on its way for a minute: the grace).
        result = flask_command(stack_env, 'audit', '--grace', '60')
        assert result.returncode == 0, f'flask audit after the whole suite:\n{result.stdout}{result.stderr}'


@contextlib.contextmanager
def running_stack(env: dict, data_dir: Path, redis_client):
    """`flask up` with `env` (from `system_env`), its log in `data_dir`; an Api on it until the block ends."""
    log_path = data_dir / 'stack.log'
    with open(log_path, 'wb') as log:
        proc = subprocess.Popen([sys.executable, '-m', 'flask', '--app', 'wsgi', 'up'], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = Api(f'http://127.0.0.1:{env["PORT"]}', f'http://127.0.0.1:{env["SANDBOX_PORT"]}', env['ADMIN_TOKEN'])
    try:
        _wait_up(api, proc, log_path)
        api.env = env
        api.log_path = log_path
        yield api
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        delete_prefixed(redis_client, env['KEY_PREFIX'])


def _wait_up(api: Api, proc, log_path: Path) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f'flask up exited:\n{log_path.read_text()[-4000:]}')
        try:
            if requests.get(api.api + '/healthz', timeout=1).ok and \
                    requests.get(api.sandbox + '/sandbox/healthz', timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f'the stack did not come up:\n{log_path.read_text()[-4000:]}')


def flask_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run a `flask` command against a system's database and Redis, as an operator would."""
    return subprocess.run([sys.executable, '-m', 'flask', '--app', 'wsgi', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def audit(stack):
    """`flask audit --grace 0` against the stack."""
    return lambda: flask_command(stack.env, 'audit', '--grace', '0')
