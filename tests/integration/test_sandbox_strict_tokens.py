"""Access tokens as WeChat keeps them — 2 hours (42001 after), a new one leaves the previous one 5 more
minutes (40001 after) — and the app's client renewing a refused token exactly once, without replacing
the token other processes share through Redis. Driven through wechatpy against this module's own
sandbox; time moves with the sandbox clock, never by sleeping."""
import pytest
import requests
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from gateways.wechat import BaseUrlWeChatClient
from tests.support.sandbox_server import PlainClient, reset_sandbox, running_sandbox
from wechat_sandbox.credentials import DEFAULT_APP_ID, DEFAULT_APP_SECRET


@pytest.fixture(scope='module')
def served():
    with running_sandbox() as (app, base):
        yield app, base + '/'


@pytest.fixture
def sandbox(served):
    """The base URL, with the sandbox forgetting tokens, switches and clock moves before each test."""
    return reset_sandbox(served[1])


@pytest.fixture
def issued(served):
    """How many tokens the sandbox has issued to the mini-program so far."""
    return lambda: served[0].extensions['wechat_sandbox'].tokens.issued[DEFAULT_APP_ID]


def advance(sandbox, seconds):
    assert requests.post(sandbox + 'sandbox/clock', json={'advance_s': seconds}, timeout=5).ok


def errcode_of(call):
    with pytest.raises(WeChatClientException) as info:
        call()
    return info.value.errcode


def ticket(client):
    return client.jsapi.get_ticket()['ticket']


def fail_next(sandbox, api, errcode, count=1):
    answer = requests.post(sandbox + 'sandbox/api/fail-next', json={'api': api, 'count': count, 'errcode': errcode},
                           timeout=5)
    assert answer.status_code == 200, answer.text


def test_a_new_token_leaves_the_previous_one_five_minutes_then_it_is_invalid(sandbox):
    first = PlainClient(sandbox).fetch_access_token()['access_token']
    second = PlainClient(sandbox).fetch_access_token()['access_token']
    old, new = PlainClient(sandbox, first), PlainClient(sandbox, second)
    assert ticket(old) and ticket(new)  # both work during the overlap
    advance(sandbox, 299)
    assert ticket(old)
    advance(sandbox, 2)
    assert errcode_of(lambda: ticket(old)) == 40001
    assert ticket(new)


def test_a_token_expires_after_two_hours_with_42001(sandbox):
    token = PlainClient(sandbox).fetch_access_token()
    assert token['expires_in'] == 7200
    client = PlainClient(sandbox, token['access_token'])
    advance(sandbox, 7199)
    assert ticket(client)
    advance(sandbox, 1)
    assert errcode_of(lambda: ticket(client)) == 42001


def test_an_unknown_or_missing_token_is_refused(sandbox):
    assert errcode_of(lambda: ticket(PlainClient(sandbox, 'made-up'))) == 40001
    answer = requests.get(sandbox + 'cgi-bin/ticket/getticket', params={'type': 'jsapi'}, timeout=5).json()
    assert answer['errcode'] == 41001


def test_the_app_renews_an_expired_token_and_the_call_goes_through(sandbox, issued, redis_client, key_prefix):
    client = BaseUrlWeChatClient(DEFAULT_APP_ID, DEFAULT_APP_SECRET, base_url=sandbox,
                                 session=RedisStorage(redis_client, prefix=key_prefix + 'wechatpy'))
    assert ticket(client) and issued() == 1
    advance(sandbox, 7200)  # WeChat's clock says expired; the cached token does not know
    assert ticket(client)
    assert issued() == 2


def test_a_token_refused_again_after_renewal_is_an_error_not_a_loop(sandbox, issued):
    client = BaseUrlWeChatClient(DEFAULT_APP_ID, DEFAULT_APP_SECRET, base_url=sandbox)
    assert ticket(client) and issued() == 1
    fail_next(sandbox, 'cgi-bin/ticket/getticket', 40001, count=5)
    assert errcode_of(lambda: ticket(client)) == 40001
    assert issued() == 2  # renewed exactly once
    fail_next(sandbox, 'cgi-bin/ticket/getticket', 42001, count=1)
    assert ticket(client)  # once renewed, the retry goes through
    assert issued() == 3


def test_processes_sharing_a_token_use_each_others_renewal_instead_of_replacing_it(
        sandbox, issued, redis_client, key_prefix):
    storage = RedisStorage(redis_client, prefix=key_prefix + 'wechatpy')
    one, other = (BaseUrlWeChatClient(DEFAULT_APP_ID, DEFAULT_APP_SECRET, base_url=sandbox, session=storage)
                  for _ in range(2))
    assert ticket(one)
    stale = storage.get(one.access_token_key)
    one.fetch_access_token()  # process one renews (say its copy was near expiry)
    assert ticket(other) and issued() == 2  # the other reads the shared, new token: nothing fetched
    # the other had a call in flight with the old token: fine for 5 minutes ...
    assert other.get('ticket/getticket', params={'access_token': stale, 'type': 'jsapi'})['ticket']
    advance(sandbox, 301)
    # ... after which WeChat refuses it, and the retry takes the shared new token instead of a fresh one
    assert other.get('ticket/getticket', params={'access_token': stale, 'type': 'jsapi'})['ticket']
    assert issued() == 2
    assert ticket(one)


@pytest.mark.parametrize('body, message', [
    ({'api': 'cgi-bin/nope', 'count': 1, 'errcode': -1}, "'api' must be one of"),
    ({'api': 'sns/jscode2session', 'count': 1, 'errcode': 43101}, 'WeChat documents these errcode'),
    ({'api': 'sns/jscode2session', 'count': 1, 'errcode': '45011'}, 'WeChat documents these errcode'),
    ({'api': 'sns/jscode2session', 'count': -1, 'errcode': 45011}, "'count'"),
    ({'api': 'sns/jscode2session', 'count': True, 'errcode': 45011}, "'count'"),
])
def test_the_fail_next_door_takes_only_documented_codes(sandbox, body, message):
    answer = requests.post(sandbox + 'sandbox/api/fail-next', json=body, timeout=5)
    assert answer.status_code == 400 and answer.json()['error']['code'] == 'invalid_field'
    assert message in answer.json()['error']['message']


def test_a_forced_error_hits_the_next_calls_only_and_reset_clears_it(sandbox):
    client = PlainClient(sandbox)
    fail_next(sandbox, 'cgi-bin/ticket/getticket', -1, count=2)
    assert [errcode_of(lambda: ticket(client)) for _ in range(2)] == [-1, -1]
    assert ticket(client)
    fail_next(sandbox, 'cgi-bin/ticket/getticket', 45011)
    reset_sandbox(sandbox)
    assert ticket(PlainClient(sandbox))
