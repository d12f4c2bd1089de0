"""Redis and PostgreSQL restarted under load. A private redis-server and a private PostgreSQL cluster (their own
ports and temp dirs, never the shared ones) serve one stack while threads keep opening, joining and paying.
While one is down the API answers 503 with the JSON error — never a 500, never a hang past the client's
timeout; once it is back, joins succeed again with no web process restarted; and nothing is lost: every order
ends fulfilled, refunded or closed (never paid and forgotten), no seat is oversold, `flask audit` is clean."""
import secrets
import threading
import time
from collections import Counter

import pytest
import requests

from tests.conftest import delete_prefixed
from tests.e2e.processes import Processes
from tests.support.private_servers import PostgresServer, RedisServer
from tests.support.system import _wait_up, drop_system_db, flask_command, system_env
from tools.http_client import Api, wait_until

pytestmark = pytest.mark.e2e

FINAL = {'fulfilled', 'refunded', 'closed'}


@pytest.fixture(scope='module')
def system(tmp_root, redis_client):
    redis, postgres = RedisServer(tmp_root / 'restarts-redis'), PostgresServer()
    env, procs = None, None
    try:
        postgres.init()
        postgres.start()
        redis.start()
        env = system_env(tmp_root, redis.url, 'restarts', DATABASE_URL=postgres.create_database('pinke'),
                         SWEEP_INTERVAL_S='1', SWEEP_STALE_S='2', WEB_WORKERS='1',
                         REFUND_CHECK_AFTER_S='5')  # a refund notification refused during an outage
        procs = Processes(env, tmp_root / 'restarts')
        assert flask_command(env, 'migrate').returncode == 0
        for name in ('sandbox', 'web', 'worker', 'scheduler'):
            procs.start(name)
        api = Api(f'http://127.0.0.1:{env["PORT"]}', f'http://127.0.0.1:{env["SANDBOX_PORT"]}', env['ADMIN_TOKEN'])
        api.env, api.redis, api.postgres = env, redis, postgres
        api.log_dir, api.procs = tmp_root / 'restarts', procs
        _wait_up(api, procs.procs['web'], tmp_root / 'restarts' / 'web.log')
        yield api
    finally:
        if procs is not None:
            procs.stop_all()
        redis.stop()
        postgres.remove()
        if env is not None:
            delete_prefixed(redis_client, env['KEY_PREFIX'])
            drop_system_db(env, 'restarts')  # system_env made one on the shared server too, unused


class Load:
    """Threads that each, in a loop, open a group of two, pay, let a second person join and pay. Every answer
    is recorded; an answer that is neither a success nor a clean 503 is a failure of the test."""

    def __init__(self, api: Api, campaign_id: int, threads: int = 4):
        self.api, self.campaign_id = api, campaign_id
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: Counter = Counter()
        self.wrong: list[str] = []
        self.tokens: list[str] = []
        self.completed = 0  # iterations whose join was taken
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def unavailable_seen(self) -> int:
        with self.lock:
            return self.answers[503]

    def _call(self, method: str, path: str, token=None, json=None):
        try:
            answer = self.api.call(method, path, token, json=json)  # 30 s client timeout: a hang fails below
        except requests.RequestException as exc:
            with self.lock:
                self.wrong.append(f'{method} {path}: {exc!r}')
            return None
        with self.lock:
            self.answers[answer.status_code] += 1
            if answer.status_code >= 500 and not (answer.status_code == 503 and
                                                  answer.json()['error']['code'] == 'service_unavailable'
                                                  and answer.headers.get('Retry-After')):
                self.wrong.append(f'{method} {path}: {answer.status_code} {answer.text[:300]}')
        return answer

    def _login(self):
        answer = self._call('POST', '/api/auth/wxlogin', json={'code': f'p{secrets.token_hex(4)}.{secrets.token_hex(4)}'})
        if answer is None or answer.status_code != 200:
            return None
        with self.lock:
            self.tokens.append(answer.json()['token'])
        return answer.json()['token']

    def _run(self):
        while not self.stop.is_set():
            leader = self._login()
            opened = leader and self._call('POST', '/api/groups', leader, json={'campaign_id': self.campaign_id})
            if not opened or opened.status_code != 201:
                continue
            self.api.confirm(opened.json())
            share = opened.json()['group']['share_code']
            member = self._login()
            joined = None
            for _ in range(50):  # the leader's payment turns the group forming: joining waits for it
                if self.stop.is_set() or member is None:
                    break
                joined = self._call('POST', f'/api/groups/{share}/join', member)
                if joined is None or joined.status_code != 409 or joined.json()['error']['code'] != 'group_closed':
                    break
                self.stop.wait(0.1)
            if joined is not None and joined.status_code == 201:
                self.api.confirm(joined.json())
                with self.lock:
                    self.completed += 1


def outage(load: Load, down, up) -> None:
    """Take a store down until the API has answered 503 a few times, bring it back, wait for joins to work."""
    seen = load.unavailable_seen()
    down()
    wait_until(lambda: load.unavailable_seen() >= seen + 3, timeout=60, what='503 answers while it is down')
    up()
    done = load.completed
    wait_until(lambda: load.completed >= done + 2, timeout=60, what='joins succeeding again after the restart')


def test_redis_and_postgres_restarts_under_load_answer_503_then_recover_losing_nothing(system):
    campaign = system.new_campaign(group_size=2, duration_s=8)
    with Load(system, campaign['id']) as load:
        wait_until(lambda: load.completed >= 2, timeout=60, what='the load running')
        outage(load, system.redis.stop, system.redis.start)
        outage(load, lambda: system.postgres.stop('fast'), system.postgres.start)
    assert not load.wrong, load.wrong[:10]
    assert load.answers[500] == 0 and load.answers[503] >= 6

    def order_states() -> Counter:
        states: Counter = Counter()
        for token in load.tokens:
            answer = system.call('GET', '/api/me/orders', token)
            assert answer.status_code == 200, answer.text
            states.update(o['status'] for o in answer.json()['orders'])
        return states
    end = time.monotonic() + 90
    while set(states := order_states()) - FINAL and time.monotonic() < end:
        time.sleep(1)
    assert not set(states) - FINAL, f'orders not settled after 90 s: {dict(states)}\n{errors_logged(system)}'
    for name in ('web', 'worker', 'scheduler'):  # nothing restarted them: each outlived both restarts
        assert system.procs.procs[name].poll() is None, f'{name} died\n{errors_logged(system)}'
    assert 'fulfilled' in states
    result = flask_command(system.env, 'audit', '--grace', '0')
    assert result.returncode == 0, result.stdout + result.stderr  # no seat oversold, no paid order forgotten


def errors_logged(system, lines: int = 40) -> str:
    """The last ERROR lines of the worker and the scheduler: what a failure here needs to be understood."""
    found = []
    for name in ('worker', 'scheduler'):
        text = (system.log_dir / f'{name}.log').read_text(errors='replace').splitlines()
        found += [f'{name}: {line}' for line in text if ' ERROR ' in line or 'Error:' in line][-lines:]
    return '\n'.join(found)
