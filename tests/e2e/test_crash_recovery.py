"""Crashes and amnesia: a worker killed mid-refund, Redis flushed mid-campaign, the scheduler down
past a deadline. When the parts come back the system catches up on its own: one refund per
order, no missing enrollment, no stuck group, and `flask audit` clean."""
import os
import secrets
from datetime import datetime

import pytest
import redis as redis_lib
import requests

from tests.conftest import delete_prefixed
from tests.support.system import _wait_up, drop_system_db, flask_command, system_env
from tests.e2e.processes import Processes
from tools.http_client import Api, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope='module')
def system(tmp_root, redis_url, redis_client):
    env = system_env(tmp_root, redis_url, 'crash', SWEEP_INTERVAL_S='1', SWEEP_STALE_S='2')
    assert flask_command(env, 'migrate').returncode == 0
    procs = Processes(env, tmp_root / 'crash')
    for name in ('sandbox', 'web', 'worker', 'scheduler'):
        procs.start(name)
    api = Api(f'http://127.0.0.1:{env["PORT"]}', f'http://127.0.0.1:{env["SANDBOX_PORT"]}', env['ADMIN_TOKEN'])
    api.env, api.procs = env, procs
    try:
        _wait_up(api, procs.procs['web'], tmp_root / 'crash' / 'web.log')
        yield api
    finally:
        procs.stop_all()
        delete_prefixed(redis_client, env['KEY_PREFIX'])
        drop_system_db(env, 'crash')


def audit_clean(system) -> None:
    result = flask_command(system.env, 'audit', '--grace', '0')
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_worker_killed_while_wechat_refunds_leaves_exactly_one_refund(system):
    requests.post(f'{system.sandbox}/sandbox/refunds/hold-next', json={'count': 1, 'seconds': 6})
    campaign = system.new_campaign(group_size=3, duration_s=1)
    leader, share = system.open_formed_group(campaign['id'], f'l-{secrets.token_hex(4)}')
    order = system.call('GET', '/api/me/orders', leader).json()['orders'][0]

    def refund_reached_wechat():
        return requests.get(f'{system.sandbox}/sandbox/refunds', params={'out_trade_no': order['out_trade_no']}).json()['refunds']

    wait_until(refund_reached_wechat, timeout=10, what='the refund call to reach WeChat')
    system.procs.kill('worker')  # WeChat has refunded; the worker never hears the answer
    assert system.order(leader, order['id'])['refund']['status'] == 'pending'
    system.procs.start('worker')
    wait_until(lambda: system.order(leader, order['id'])['status'] == 'refunded', timeout=30,
               what='refunded after the restart')
    assert len(refund_reached_wechat()) == 1
    audit_clean(system)


def test_redis_flushed_during_a_live_campaign_is_rebuilt_and_settles_right(system, redis_url):
    campaign = system.new_campaign(group_size=3, duration_s=6)
    leader, share = system.open_formed_group(campaign['id'], f'l-{secrets.token_hex(4)}')
    member = system.login(f'm-{secrets.token_hex(4)}')
    system.confirm(system.join(member, share).json())
    holder = system.login(f'h-{secrets.token_hex(4)}')
    held = system.join(holder, share)
    assert held.status_code == 201
    client = redis_lib.Redis.from_url(redis_url)
    if os.environ.get('REDIS_URL'):
        delete_prefixed(client, system.env['KEY_PREFIX'])  # a shared Redis: forget only our keys
    else:
        client.flushall()  # our own embedded server: forget everything
    late = system.login(f'x-{secrets.token_hex(4)}')
    blocked = system.join(late, share)  # the ledger is rebuilt from the database: the held seat counts
    assert blocked.status_code == 409 and blocked.json()['error']['code'] == 'group_full'
    wait_until(lambda: system.group(share)['status'] == 'failed', timeout=15, what='settled at the deadline')
    for token in (leader, member):
        order = system.call('GET', '/api/me/orders', token).json()['orders'][0]
        wait_until(lambda: system.order(token, order['id'])['status'] == 'refunded', timeout=20, what='refunded')
    audit_clean(system)


def test_a_scheduler_down_past_a_deadline_catches_up_when_it_returns(system):
    system.procs.kill('scheduler')
    campaign = system.new_campaign(group_size=2, duration_s=2)
    leader, share = system.open_formed_group(campaign['id'], f'l-{secrets.token_hex(4)}')
    def deadline_passed():
        g = system.group(share)
        return datetime.fromisoformat(g['server_time']) > datetime.fromisoformat(g['deadline_at']) and g
    past = wait_until(deadline_passed, timeout=15, what='the deadline passed')
    assert past['status'] == 'forming'  # nobody is watching the clock
    system.procs.start('scheduler')
    wait_until(lambda: system.group(share)['status'] == 'failed', timeout=15, what='caught up')
    order = system.call('GET', '/api/me/orders', leader).json()['orders'][0]
    wait_until(lambda: system.order(leader, order['id'])['status'] == 'refunded', timeout=20, what='refunded')
    audit_clean(system)
