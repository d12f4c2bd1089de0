"""Two web nodes — separate gunicorn masters on their own ports — behind Debian's haproxy (round robin), one
worker and two schedulers, all on one database and one Redis: any node serves any group, a listener on one
node hears what happens through the other, and a deadline settles once however many schedulers watch it."""
import secrets
import signal
import subprocess

import pytest
import requests

from groupbuy import live_events
from tests.conftest import delete_prefixed
from tests.e2e.processes import Processes
from tests.support.private_servers import binary, wait_for
from tests.support.system import _wait_up, drop_system_db, flask_command, free_port, system_env
from tools.http_client import Api, EventStream, wait_until

pytestmark = pytest.mark.e2e

HAPROXY = """global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend pinke
  bind 127.0.0.1:{port}
  default_backend nodes
backend nodes
  balance roundrobin
  server a 127.0.0.1:{a}
  server b 127.0.0.1:{b}
"""


@pytest.fixture(scope='module')
def nodes(tmp_root, redis_url, redis_client):
    haproxy = binary('haproxy', 'haproxy')
    lb_port, root = free_port(), tmp_root / 'twonodes'
    # Pay notifications come back through the balancer, as they would from WeChat.
    env_a = system_env(tmp_root, redis_url, 'twonodes', PUBLIC_BASE_URL=f'http://127.0.0.1:{lb_port}', WEB_WORKERS='1')
    env_b = {**env_a, 'PORT': str(free_port())}
    assert flask_command(env_a, 'migrate').returncode == 0
    (root / 'b').mkdir()
    node_a, node_b = Processes(env_a, root), Processes(env_b, root / 'b')
    config = root / 'haproxy.cfg'
    config.write_text(HAPROXY.format(port=lb_port, a=env_a['PORT'], b=env_b['PORT']))
    balancer = None
    try:
        for name in ('sandbox', 'web', 'worker', 'scheduler'):
            node_a.start(name)
        for name in ('web', 'scheduler'):  # a second web node and a second scheduler
            node_b.start(name)
        balancer = subprocess.Popen([haproxy, '-f', str(config), '-db'], stdout=open(root / 'haproxy.log', 'wb'),
                                    stderr=subprocess.STDOUT, start_new_session=True)
        sandbox, admin = f'http://127.0.0.1:{env_a["SANDBOX_PORT"]}', env_a['ADMIN_TOKEN']
        apis = {name: Api(f'http://127.0.0.1:{port}', sandbox, admin)
                for name, port in (('a', env_a['PORT']), ('b', env_b['PORT']), ('lb', lb_port))}
        _wait_up(apis['a'], node_a.procs['web'], root / 'web.log')
        _wait_up(apis['b'], node_b.procs['web'], root / 'b' / 'web.log')
        wait_for(lambda: requests.get(apis['lb'].api + '/healthz', timeout=2).ok, 20, 'haproxy')
        for api in apis.values():
            api.env = env_a
        apis['logs'] = {'a': root / 'web.log', 'b': root / 'b' / 'web.log'}
        yield apis
    finally:
        if balancer is not None:
            balancer.send_signal(signal.SIGTERM)
            balancer.wait(10)
        node_b.stop_all()
        node_a.stop_all()
        delete_prefixed(redis_client, env_a['KEY_PREFIX'])
        drop_system_db(env_a, 'twonodes')


def name(prefix: str) -> str:
    return f'{prefix}-{secrets.token_hex(4)}'


def test_requests_through_the_balancer_are_served_by_both_nodes(nodes):
    marker = f'/api/campaigns?probe={secrets.token_hex(4)}'  # the access log prints paths, not queries
    before = {node: path.read_text().count('"GET /api/campaigns ') for node, path in nodes['logs'].items()}
    answers = [requests.get(nodes['lb'].api + marker, timeout=10).status_code for _ in range(8)]  # a connection each
    assert answers == [200] * 8

    def served():  # a node writes its access line just after answering
        counts = {node: path.read_text().count('"GET /api/campaigns ') - before[node]
                  for node, path in nodes['logs'].items()}
        return sum(counts.values()) == 8 and counts
    counts = wait_until(served, timeout=10, what='every request in the access logs')
    assert counts['a'] >= 1 and counts['b'] >= 1


def test_a_listener_on_node_b_sees_a_join_and_its_payment_made_through_node_a(nodes):
    a, b = nodes['a'], nodes['b']
    campaign = a.new_campaign(group_size=3)
    _, share = a.open_formed_group(campaign['id'], name('leader'))
    stream = EventStream(f'{b.api}/api/groups/{share}/events')
    try:
        assert stream.next_of('snapshot')['data']['paid_count'] == 1
        member = a.login(name('member'))
        joined = a.join(member, share)
        assert joined.status_code == 201, joined.text
        assert stream.next_of('seat_reserved')['data']['reserved_count'] == 1
        a.confirm(joined.json())  # WeChat's notification reaches whichever node the balancer picks
        assert stream.next_of('member_joined')['data']['paid_count'] == 2
    finally:
        stream.close()
    assert b.group(share)['paid_count'] == 2  # and node B reads the same group


def test_a_deadline_watched_by_two_schedulers_settles_once_and_refunds_once(nodes, redis_client):
    lb = nodes['lb']
    campaign = lb.new_campaign(group_size=3, duration_s=3)
    leader, share = lb.open_formed_group(campaign['id'], name('leader'))
    member = lb.login(name('member'))
    joined = lb.join(member, share)
    assert joined.status_code == 201, joined.text
    lb.confirm(joined.json())
    wait_until(lambda: lb.group(share)['status'] == 'failed', timeout=30, what='the deadline settled')
    orders = [lb.call('GET', '/api/me/orders', token).json()['orders'][0] for token in (leader, member)]
    for token, order in zip((leader, member), orders):
        wait_until(lambda: lb.order(token, order['id'])['status'] == 'refunded', timeout=30, what='refunded')
    for order in orders:
        refunds = requests.get(f'{lb.sandbox}/sandbox/refunds', params={'out_trade_no': order['out_trade_no']},
                               timeout=10).json()['refunds']
        assert len(refunds) == 1, refunds
    history = live_events.history_since(redis_client, lb.env['KEY_PREFIX'], share, 0)
    assert [e['type'] for e in history].count('group_failed') == 1
    result = flask_command(lb.env, 'audit', '--grace', '0')
    assert result.returncode == 0, result.stdout + result.stderr
