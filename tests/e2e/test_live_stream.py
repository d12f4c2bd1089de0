"""The live group stream over real HTTP: events arrive at once, reconnects catch up, and any web
process serves any group."""
import os
import secrets
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.support.system import ROOT, free_port
from tests.support.timing import bound
from tools.http_client import EventStream, wait_until

pytestmark = pytest.mark.e2e


def code(name):
    return f'{name}-{secrets.token_hex(4)}'


def test_a_join_reaches_a_watching_member_within_a_second(stack):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    stream = EventStream(f'{stack.api}/api/groups/{share}/events')
    try:
        snapshot = stream.next_of('snapshot')
        assert snapshot['data']['paid_count'] == 1 and snapshot['data']['status'] == 'forming'
        assert 'openid' not in str(snapshot['data'])
        member = stack.login(code('m'))
        stack.call('PATCH', '/api/me', member, json={'nickname': '小红'})
        joined = stack.join(member, share).json()
        assert stream.next_of('seat_reserved')['data']['reserved_count'] == 1
        paid_at = time.monotonic()
        stack.confirm(joined)
        event = stream.next_of('member_joined')
        assert time.monotonic() - paid_at < bound(1.0)
        assert event['data']['member'] == {'nickname': '小红', 'avatar_url': '', 'role': 'member'}
        assert (event['data']['paid_count'], event['data']['seats_left']) == (2, 1)
        assert 'server_time' in event['data'] and int(event['id']) > int(snapshot['id'])
    finally:
        stream.close()


def test_a_reconnect_with_last_event_id_gets_the_missed_events_in_order(stack):
    campaign = stack.new_campaign(group_size=4)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    first = EventStream(f'{stack.api}/api/groups/{share}/events')
    seen = first.next_of('snapshot')['id']
    if int(seen) == 0:  # the leader's `group_formed` is published just after its commit: it may follow the snapshot
        seen = first.next_of('group_formed')['id']
    first.close()
    for paid, name in ((2, 'a'), (3, 'b')):
        stack.confirm(stack.join(stack.login(code(name)), share).json())
        wait_until(lambda: stack.group(share)['paid_count'] == paid, what=f'{name} paid')
    again = EventStream(f'{stack.api}/api/groups/{share}/events', last_event_id=seen)
    try:
        missed = [again.next() for _ in range(4)]
        assert [e['event'] for e in missed] == ['seat_reserved', 'member_joined', 'seat_reserved', 'member_joined']
        ids = [int(e['id']) for e in missed]
        assert ids == sorted(ids) and ids[0] == int(seen) + 1
        assert missed[-1]['data']['paid_count'] == 3
    finally:
        again.close()
    stale = EventStream(f'{stack.api}/api/groups/{share}/events', last_event_id=10 ** 9)
    try:
        assert stale.next()['event'] == 'snapshot'  # an id from the future (a flushed Redis): resync
    finally:
        stale.close()


def test_an_unknown_group_stream_is_a_clear_404(stack):
    r = requests.get(f'{stack.api}/api/groups/nosuchgroup/events', timeout=5)
    assert r.status_code == 404 and r.json()['error']['code'] == 'not_found'


@pytest.fixture
def second_web(stack):
    """Another web process on the same database and Redis (as behind a load balancer)."""
    env = dict(stack.env, PORT=str(free_port()), WEB_WORKERS='1')
    proc = subprocess.Popen([sys.executable, '-m', 'gunicorn', '-c', 'config/gunicorn_conf.py', 'wsgi:create_app()'],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f'http://127.0.0.1:{env["PORT"]}'
    try:
        wait_until(lambda: _up(url), timeout=30, what='second web process')
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def _up(url):
    try:
        return requests.get(url + '/healthz', timeout=1).ok
    except requests.RequestException:
        return False


def test_a_join_handled_by_one_web_process_reaches_a_listener_on_another(stack, second_web):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    stream = EventStream(f'{second_web}/api/groups/{share}/events')
    try:
        stream.next_of('snapshot')
        stack.confirm(stack.join(stack.login(code('m')), share).json())  # through the first process
        assert stream.next_of('member_joined')['data']['paid_count'] == 2
    finally:
        stream.close()
