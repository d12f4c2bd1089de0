"""What operations read (README "Operations: metrics and logs"): `GET /metrics` in Prometheus's text format
(joins by answer, the seat ledger's verdicts, the deadline lag, queue depths, refunds needing attention, live
streams open), kept from public addresses; JSON log lines carrying the request's id, into the jobs it made.

The app runs in this process on the real database and Redis; its metrics directory is the test session's
(tests/conftest.py), so each test reads how a number moved, not its value."""
import datetime as dt
import functools
import json
import logging
import os
import secrets
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import SimpleWorker

from groupbuy.clock import to_ms
from groupbuy.models import Order, Refund
from jobs.scheduler import dispatch_due
from config import metrics_files
from miniapp_api import metrics, request_id
from tests.integration.test_group_lifecycle import open_and_form
from tests.integration.test_rate_limits import forming_group, join
from tests.integration.test_user_tokens import token_for
from tests.support.builders import campaign, user

ADMIN = 'ops-admin-' + secrets.token_hex(8)
PUBLIC = '203.0.113.7'  # TEST-NET-3: a public address


@pytest.fixture
def make(on_sandbox):
    """`make(**settings)`: the app on the sandbox and the test's clock (tests/integration/conftest.py), with the
    admin token the scrapes use."""
    return functools.partial(on_sandbox, admin_token=ADMIN)


@pytest.fixture
def app(make):
    return make()


def scrape(app, address: str = '127.0.0.1', **headers):
    return app.test_client().get('/metrics', headers=headers, environ_base={'REMOTE_ADDR': address})


def samples(app) -> dict:
    """{(sample name, sorted labels): value} of one scrape from the loopback address."""
    answer = scrape(app)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True)) for s in family.samples}


def moved(before: dict, after: dict) -> dict:
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}


def test_a_scrape_is_prometheus_text_and_counts_each_join_by_its_answer_and_each_seat_verdict(app, deps):
    share = forming_group(deps, size=2)  # the leader and one seat
    amy, bob = token_for(app, user()), token_for(app, user())
    answer = scrape(app)
    assert answer.status_code == 200 and answer.mimetype == 'text/plain'
    before = samples(app)
    assert [join(app, amy, share).status_code, join(app, amy, share).status_code,
            join(app, bob, share).status_code] == [201, 409, 409]
    assert moved(before, samples(app)) == {
        ('pinke_joins_total', (('code', 'ok'), ('status', '201'))): 1,
        ('pinke_joins_total', (('code', 'already_joined'), ('status', '409'))): 1,  # the database said it
        ('pinke_joins_total', (('code', 'group_full'), ('status', '409'))): 1,
        ('pinke_seat_verdicts_total', (('verdict', 'ok'),)): 1,
        ('pinke_seat_verdicts_total', (('verdict', 'full'),)): 1,
    }
    names = {name for name, _ in samples(app)}
    assert {'pinke_queue_depth', 'pinke_refunds_needing_attention'} <= names
    assert {('pinke_seat_verdicts_total', (('verdict', v),)) for v in metrics.VERDICTS} <= set(samples(app))


def test_a_public_address_needs_the_admin_token(make_app):
    app = make_app(admin_token=ADMIN)
    refused = scrape(app, PUBLIC)
    assert refused.status_code == 401 and refused.get_json()['error']['code'] == 'unauthorized'
    assert b'pinke_' not in refused.get_data()
    assert scrape(app, PUBLIC, Authorization='Bearer not-the-token').status_code == 403
    assert scrape(app, PUBLIC, Authorization=f'Bearer {ADMIN}').status_code == 200
    assert scrape(app, '10.1.2.3').status_code == 200  # the private network Prometheus scrapes from
    # A proxy nobody told us of (PROXY_HOPS=0): its address is not the client's, so only the token helps.
    assert scrape(app, '127.0.0.1', **{'X-Forwarded-For': PUBLIC}).status_code == 401
    assert scrape(make_app(admin_token=ADMIN, metrics_networks=''), '127.0.0.1').status_code == 401


def test_behind_proxy_hops_the_clients_address_decides(make_app):
    app = make_app(admin_token=ADMIN, proxy_hops=1)
    assert scrape(app, '127.0.0.1', **{'X-Forwarded-For': '10.0.0.8'}).status_code == 200
    assert scrape(app, '127.0.0.1', **{'X-Forwarded-For': PUBLIC}).status_code == 401


def test_queue_depths_and_refunds_needing_attention_are_read_at_scrape(app, deps):
    before = samples(app)
    app.extensions['pinke'].queues.enqueue('deliver_notification', 1)
    group = open_and_form(deps, campaign(group_size=3), user())
    Refund.create(order=Order.get(Order.group == group.id), out_refund_no=f'RF{secrets.token_hex(6)}', amount_fen=1,
                  reason='group_failed', status='failed', attempts=5)
    assert moved(before, samples(app)) == {('pinke_queue_depth', (('queue', 'notifications'),)): 1,
                                           ('pinke_refunds_needing_attention', ()): 1}


def test_the_scheduler_observes_how_late_it_claimed_each_due_item(app, deps, clock):
    group = open_and_form(deps, campaign(group_size=3), user())
    dispatch_due(deps)  # Redis restored from the database, as at a scheduler's start
    deps.deadlines.schedule('settle', group.id, to_ms(clock.now()) - 2500)  # due 2.5 s ago
    before = samples(app)
    assert dispatch_due(deps) >= 1
    change = moved(before, samples(app))
    assert change[('pinke_deadline_lag_seconds_count', (('kind', 'settle'),))] == 1
    assert change[('pinke_deadline_lag_seconds_sum', (('kind', 'settle'),))] == pytest.approx(2.5)
    assert change[('pinke_deadline_lag_seconds_bucket', (('kind', 'settle'), ('le', '5.0')))] == 1
    assert ('pinke_deadline_lag_seconds_bucket', (('kind', 'settle'), ('le', '2.0'))) not in change


def test_an_open_live_stream_is_counted_until_it_ends(app, deps):
    share = forming_group(deps)
    key = ('pinke_live_streams_open', (('kind', 'group'),))
    before = samples(app).get(key, 0)
    stream = app.test_client().get(f'/api/groups/{share}/events', buffered=False)
    assert next(stream.response).startswith(b'retry:')  # streaming: subscribed, counted
    assert samples(app)[key] == before + 1
    stream.close()
    assert samples(app)[key] == before


def test_a_scrape_sums_every_process_writing_to_the_directory(app):
    """The RQ workers and the scheduler are other processes: their files are summed in."""
    key = ('pinke_seat_verdicts_total', (('verdict', 'unknown'),))
    before = samples(app).get(key, 0)
    other = ('from miniapp_api.metrics import SEAT_VERDICTS; SEAT_VERDICTS.labels("unknown").inc(3)')
    subprocess.run([sys.executable, '-c', other], check=True, timeout=60)  # inherits PROMETHEUS_MULTIPROC_DIR
    assert samples(app)[key] == before + 3


def test_files_of_processes_no_longer_running_are_dropped_at_web_start(tmp_path):
    ended = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True)
    dead = int(ended.stdout)
    for name in (f'counter_{dead}.db', f'gauge_livesum_{dead}.db', f'histogram_{os.getpid()}.db'):
        (tmp_path / name).write_bytes(b'')
    assert sorted(metrics_files.forget_dead_processes(str(tmp_path))) == [f'counter_{dead}.db', f'gauge_livesum_{dead}.db']
    assert [p.name for p in tmp_path.iterdir()] == [f'histogram_{os.getpid()}.db']


# --- logs ----------------------------------------------------------------------------------------------------


def json_lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith('{')]


def test_a_log_line_is_one_json_object_with_the_request_id(make_app, capsys):
    app = make_app(log_format='json')

    @app.get('/test-only/log')
    def log_something():
        logging.getLogger('pinke.test').warning('seat %s taken', 7, extra={'share_code': 'abc123'})
        return 'ok'

    capsys.readouterr()
    answer = app.test_client().get('/test-only/log', headers={'X-Request-Id': 'lb-7f3a9c21.aa'})
    assert answer.headers['X-Request-Id'] == 'lb-7f3a9c21.aa'
    [line] = [line for line in json_lines(capsys.readouterr().err) if line['logger'] == 'pinke.test']
    assert list(line)[:5] == ['time', 'level', 'logger', 'message', 'request_id']
    assert (line['level'], line['message'], line['request_id'], line['share_code']) == (
        'WARNING', 'seat 7 taken', 'lb-7f3a9c21.aa', 'abc123')
    assert dt.datetime.fromisoformat(line['time'].replace('Z', '+00:00')).tzinfo is not None


@pytest.mark.parametrize('sent', ['short', 'has space in it', 'x' * 65, 'quote"in;it-0123456', 'ünïcode-0123456'])
def test_an_unusable_request_id_is_replaced_by_ours(make_app, sent):
    answer = make_app().test_client().get('/healthz', headers={'X-Request-Id': sent})
    assert answer.status_code == 200 and answer.headers['X-Request-Id'] != sent
    assert len(answer.headers['X-Request-Id']) == 32 and request_id.usable(answer.headers['X-Request-Id'])


def test_a_job_a_request_enqueued_logs_the_same_request_id_in_the_worker(make, capsys):
    app = make(log_format='json')
    rt = app.extensions['pinke']
    rid = 'req-' + secrets.token_hex(8)
    answer = app.test_client().post('/admin/api/broadcasts', headers={'Authorization': f'Bearer {ADMIN}',
                                                                       'X-Request-Id': rid},
                                    json={'segment': {'type': 'users', 'user_ids': [user().id]}, 'message': '开课啦'})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    [job] = rt.queues.queues['broadcast'].jobs
    assert job.meta['request_id'] == rid and request_id.current() is None  # the request is over: only the meta
    capsys.readouterr()
    SimpleWorker(rt.queues.all(), connection=rt.redis, name=f'{rt.queues.id_prefix}ops-test').work(burst=True)
    lines = json_lines(capsys.readouterr().err)
    [done] = [line for line in lines if line['logger'] == 'jobs.tasks']
    assert (done['request_id'], done['job'], done['job_args']) == (rid, 'run_broadcast', [job.args[1]])
    assert any(line['logger'].startswith('rq.') for line in lines)  # RQ's own lines are JSON too


def test_a_database_pool_with_every_connection_busy_answers_503_not_500(make_app, monkeypatch):
    """The flash-sale run (simulator) met it on PostgreSQL: playhouse.pool raises MaxConnectionsExceeded (a
    ValueError) once its wait is over; that is the store being out of reach for a moment, like a restart."""
    from playhouse.pool import MaxConnectionsExceeded

    from groupbuy import groups

    def exhausted(*args, **kwargs):
        raise MaxConnectionsExceeded('Exceeded maximum connections.')
    monkeypatch.setattr(groups, 'find_group', exhausted)
    answer = make_app().test_client().get('/api/groups/abcdefabcdef')
    assert answer.status_code == 503
    assert answer.get_json()['error']['code'] == 'service_unavailable'
