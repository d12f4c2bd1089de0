"""Inputs that once answered 500 or left state half-written, each answered by a clear 4xx now and changing
nothing: malformed pay notifications, ids beyond the database's range, unknown body fields, a live
stream whose `Last-Event-ID` is not a number, any Authorization header, and a broadcast job that crashes."""
import itertools
import json
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from groupbuy import broadcasts
from groupbuy.models import Broadcast
from miniapp_api.live_stream import hub
from miniapp_api.schemas import MAX_ID

pytestmark = pytest.mark.fuzz

BEYOND = MAX_ID + 1  # 2**63: the first id SQLite's driver cannot even send


def wechat_fail(response) -> str:
    """The FAIL answer WeChat expects (HTTP 400, <xml><return_code>FAIL</return_code>...); its return_msg."""
    assert response.status_code == 400, response.get_data(as_text=True)
    answer = ElementTree.fromstring(response.get_data())
    assert answer.findtext('return_code') == 'FAIL'
    return answer.findtext('return_msg')


def json_error(response) -> tuple[int, str]:
    body = response.get_json()
    assert set(body) == {'error'} and {'code', 'message'} <= set(body['error']), body
    return response.status_code, body['error']['code']


@pytest.mark.parametrize('path', ['/api/pay/notify', '/api/pay/refund-notify'])
@pytest.mark.parametrize('body', [
    b'<xml>text</xml>', b'<xml/>', b'', b'not xml at all', b'<xml><a>1</a>',
    '<?xml version="1.0" encoding="GBK"?><xml><return_code>成功</return_code></xml>'.encode('gbk'),
    b'<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><x>&b;</x></xml>',
    b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><x>&e;</x></xml>',
    b'<xml><return_code><nested>SUCCESS</nested></return_code></xml>',
    b'<xml><sign>1</sign><sign>2</sign></xml>',
    b'<other><return_code>SUCCESS</return_code></other>',
])
def test_a_malformed_pay_notification_gets_wechats_fail_and_changes_nothing(fuzzable, path, body):
    before = fuzzable.state()
    wechat_fail(fuzzable.client.post(path, data=body, content_type='text/xml'))
    assert fuzzable.state() == before


def test_a_signed_payment_with_a_strange_amount_is_refused(fuzzable):
    before = fuzzable.state()
    order = fuzzable.member_order
    for fee in ('-1', '٣', '1_000', '1e3', str(BEYOND), '9' * 5000, ''):
        body = fuzzable.payment_xml(out_trade_no=order['out_trade_no'], total_fee=fee)
        wechat_fail(fuzzable.client.post('/api/pay/notify', data=body))
    assert fuzzable.state() == before


@pytest.mark.parametrize('method, path, who', [
    ('GET', '/api/campaigns/{id}', None), ('GET', '/api/campaigns/{id}/open-groups', None),
    ('GET', '/api/orders/{id}', 'user'), ('POST', '/api/me/messages/{id}/read', 'user'),
    ('PATCH', '/admin/api/campaigns/{id}', 'admin'), ('POST', '/admin/api/refunds/{id}/retry', 'admin'),
    ('GET', '/admin/api/broadcasts/{id}', 'admin'), ('POST', '/admin/api/broadcasts/{id}/run', 'admin'),
])
@pytest.mark.parametrize('the_id', [MAX_ID, BEYOND, 10 ** 40, 0])
def test_an_id_the_database_cannot_hold_is_simply_not_found(fuzzable, method, path, who, the_id):
    before = fuzzable.state()
    response = fuzzable.client.open(path.format(id=the_id), method=method, json={'status': 'paused'},
                                    headers=fuzzable.headers([{who: []}] if who else None))
    assert json_error(response) == (404, 'not_found')
    assert fuzzable.state() == before


@pytest.mark.parametrize('the_id', [BEYOND, 10 ** 40])
def test_the_h5_campaign_page_of_an_impossible_id_is_a_404(fuzzable, the_id):
    assert fuzzable.client.get(f'/c/{the_id}').status_code == 404


@pytest.mark.parametrize('before_id', [str(BEYOND), '²', '-1', '0', 'abc', '9' * 5000])
def test_an_impossible_inbox_page_is_a_400(fuzzable, before_id):
    response = fuzzable.client.get('/api/me/messages', query_string={'before_id': before_id},
                                   headers=fuzzable.headers([{'user': []}]))
    assert json_error(response) == (400, 'invalid_input')
    assert 'before_id' in response.get_json()['error']['message']


@pytest.mark.parametrize('path, body', [
    ('/api/groups', {'campaign_id': BEYOND}),
    ('/admin/api/campaigns', {'course_id': BEYOND, 'group_size': 3, 'duration_s': 60, 'group_price_fen': 100}),
    ('/admin/api/broadcasts', {'segment': {'type': 'users', 'user_ids': [BEYOND]}, 'message': 'hi'}),
    ('/admin/api/broadcasts', {'segment': {'type': 'campaign', 'campaign_id': BEYOND}, 'message': 'hi'}),
])
def test_an_impossible_id_in_a_body_is_a_400_and_nothing_is_queued(fuzzable, path, body):
    before, queued = fuzzable.state(), _queued(fuzzable)
    headers = fuzzable.headers([{'admin' if path.startswith('/admin') else 'user': []}])
    assert json_error(fuzzable.client.post(path, json=body, headers=headers)) == (400, 'invalid_input')
    assert (fuzzable.state(), _queued(fuzzable)) == (before, queued)


@pytest.mark.parametrize('body', ['[' * 100_000, '{"a":' * 20_000 + '1' + '}' * 20_000, '{"campaign_id": 1e400}',
                                  '{"campaign_id": NaN}', '{"campaign_id": 1' + '0' * 5000 + '}'])
def test_a_body_json_cannot_read_is_a_400(fuzzable, body):
    response = fuzzable.client.post('/api/groups', data=body, content_type='application/json',
                                    headers=fuzzable.headers([{'user': []}]))
    assert json_error(response) == (400, 'invalid_input')


def _queued(fuzzable) -> int:
    return sum(q.count for q in fuzzable.app.extensions['pinke'].queues.all())


def test_a_misspelt_field_is_refused_by_name_and_nothing_is_created(fuzzable):
    before = fuzzable.state()
    body = {'course_id': 1, 'group_size': 3, 'duration_s': 60, 'group_price_fen': 100, 'leader_pirce_fen': 50}
    response = fuzzable.client.post('/admin/api/campaigns', json=body, headers=fuzzable.headers([{'admin': []}]))
    assert json_error(response) == (400, 'unknown_fields')
    error = response.get_json()['error']
    assert 'leader_pirce_fen' in error['message'] and 'leader_price_fen' in error['message']
    assert error['details']['unknown'] == ['leader_pirce_fen']
    assert fuzzable.state() == before


def test_a_nested_unknown_field_is_named_too(fuzzable):
    body = {'segment': {'type': 'expiring_short', 'within_s': 60, 'campaign': 1}, 'message': 'hi'}
    response = fuzzable.client.post('/admin/api/broadcasts', json=body, headers=fuzzable.headers([{'admin': []}]))
    assert json_error(response) == (400, 'unknown_fields')
    assert response.get_json()['error']['details']['unknown'] == ['segment.expiring_short.campaign']


def listeners(fuzzable) -> int:
    with fuzzable.app.app_context():
        return hub().listener_count()


@pytest.mark.parametrize('last_event_id', ['²', '-1', '1e3', str(BEYOND), '9' * 5000, ''])
def test_a_stream_with_a_strange_last_event_id_starts_from_a_snapshot_and_lets_go_when_closed(fuzzable,
                                                                                          last_event_id):
    before = listeners(fuzzable)
    response = fuzzable.client.get(f'/api/groups/{fuzzable.share_code}/events', buffered=False,
                                   headers={'Last-Event-ID': last_event_id})
    try:
        chunks = b''.join(itertools.islice(response.response, 2)) if response.status_code == 200 else b''
        listening = listeners(fuzzable)
    finally:
        response.close()
    assert listeners(fuzzable) == before  # whatever happened, the subscription is gone with the stream
    assert response.status_code == 200 and b'event: snapshot' in chunks
    assert listening == before + 1


def test_a_stream_never_sent_holds_no_subscription(fuzzable):
    """A WSGI server may close a response without iterating it (the client left first). Called as a server
    calls the app, since werkzeug's test client always reads the first chunk."""
    before = listeners(fuzzable)
    environ = EnvironBuilder(path=f'/api/groups/{fuzzable.share_code}/events').get_environ()
    body = fuzzable.app(environ, lambda status, headers, exc_info=None: None)
    body.close()
    assert listeners(fuzzable) == before


def test_a_crashing_broadcast_is_marked_failed_not_left_running(deps):
    broadcast = Broadcast.create(segment=json.dumps({'type': 'users'}), message='hi',
                                 created_at=deps.now())  # stored by an older version: its job cannot run
    with pytest.raises(KeyError):
        broadcasts.run_broadcast(deps, broadcast.id)
    after = Broadcast.get_by_id(broadcast.id)
    assert (after.status, after.finished_at) == ('failed', deps.now())
    assert after.last_error.startswith('KeyError')


header_text = st.text(st.characters(max_codepoint=255, blacklist_characters='\r\n'), max_size=60)  # what WSGI passes on


@settings(max_examples=100, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(header=st.one_of(header_text, header_text.map('Bearer '.__add__)))
def test_any_authorization_header_is_refused_clearly(fuzzable, header):
    for path in ('/api/me', '/admin/api/refunds'):
        response = fuzzable.client.get(path, headers={'Authorization': header})
        assert json_error(response) in ((401, 'unauthorized'), (403, 'forbidden')), (path, header)


@settings(max_examples=60, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_h5_pages_answer_any_link_without_a_server_error(fuzzable, data):
    """The pages a shared link opens (HTML, outside the OpenAPI document): any code, ref, state or browser."""
    anything = st.text(max_size=40)
    code = data.draw(st.one_of(st.just(fuzzable.share_code), anything.filter(lambda t: '/' not in t)))
    path = data.draw(st.sampled_from([f'/g/{code}', f'/g/{code}/code.png', '/g/oauth', f'/c/{code}']))
    query = data.draw(st.dictionaries(st.sampled_from(['from', 'join', 'asked', 'state', 'code']), anything,
                                      max_size=4))
    agent = data.draw(st.sampled_from(['Mozilla/5.0 MicroMessenger/8.0', 'curl/8', '']))
    response = fuzzable.client.get(path, query_string=query, headers={'User-Agent': agent})
    assert response.status_code < 500, (path, query, agent, response.get_data()[:300])
