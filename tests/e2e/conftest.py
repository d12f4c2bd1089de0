"""The real system for e2e tests: `flask up` (sandbox, gunicorn, RQ worker, scheduler) on free
ports, sharing the session's Redis (own key prefix) and a database of its own."""
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
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunsplit(parts._replace(path=f'/{name}'))


@pytest.fixture(scope='session')
def stack_env(tmp_root, redis_url):
    data_dir = tmp_root / 'e2e'
    data_dir.mkdir()
    pg_name = f'pinke_e2e_{RUN_ID}'
    base_db = os.environ.get('DATABASE_URL')
    env = {k: v for k, v in os.environ.items() if not k.startswith('FLASK_RUN')}
    env.update(
        DATA_DIR=str(data_dir), REDIS_URL=redis_url, KEY_PREFIX=f'pktest{RUN_ID}:e2e:',
        DATABASE_URL=_postgres_database(base_db, pg_name, True) if base_db else f'sqlite:///{data_dir}/e2e.db',
        PORT=str(free_port()), SANDBOX_PORT=str(free_port()), ADMIN_TOKEN='adm_' + secrets.token_hex(8),
        SECRET_KEY=secrets.token_hex(16), PAY_WINDOW_S='3', SCHEDULER_POLL_S='0.1', SWEEP_INTERVAL_S='2',
        SANDBOX_NOTIFY_RETRY_S='0.3,0.5,1,2,4', SANDBOX_REFUND_DELAY_S='0.2', REFUND_RETRY_S='1,1,1',
        WEB_WORKERS='2', WEB_THREADS='32', PYTHONUNBUFFERED='1')
    yield env
    if base_db:
        _postgres_database(base_db, pg_name, False)


@pytest.fixture(scope='session')
def stack(stack_env, tmp_root, redis_client):
    log_path = tmp_root / 'e2e' / 'stack.log'
    with open(log_path, 'wb') as log:
        proc = subprocess.Popen([sys.executable, '-m', 'flask', '--app', 'wsgi', 'up'], cwd=ROOT, env=stack_env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = Api(f'http://127.0.0.1:{stack_env["PORT"]}', f'http://127.0.0.1:{stack_env["SANDBOX_PORT"]}',
              stack_env['ADMIN_TOKEN'])
    try:
        _wait_up(api, proc, log_path)
        api.env = stack_env
        api.log_path = log_path
        yield api
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        delete_prefixed(redis_client, stack_env['KEY_PREFIX'])


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


@pytest.fixture
def audit(stack):
    """Run `flask audit --grace 0` against the stack's database, as an operator would."""
    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, '-m', 'flask', '--app', 'wsgi', 'audit', '--grace', '0'],
                              cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60)
    return run
