"""Login as WeChat does it — a wx.login code works once (40163) and for 5 minutes (40029), unionids only
for an app bound to an open platform, rare errors (45011, -1, 40226) on demand — and the app answering
each: a spent code asks the client for a new one (401), a blocked user is turned away (403), a busy
WeChat is worth a retry (502), and a user without a unionid signs in, pays and hears from us.

The sandbox is this module's own; the app runs in this process (create_app, served on a free port so
the sandbox can deliver payment notifications) on the test database and Redis."""
import os

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from groupbuy.models import Notification, Order, User
from tests.support.builders import campaign
from tests.support.sandbox_server import PlainClient, reset_sandbox, running_sandbox, serve
from tools.http_client import wait_until
from wechat_sandbox.credentials import DEFAULT_APP_ID
from wechat_sandbox.login import openid_for, unionid_for


@pytest.fixture(scope='module')
def served():
    with running_sandbox() as (app, base):
        yield app, base + '/'


@pytest.fixture
def sandbox(served):
    """The base URL; every test starts with the sandbox's memory, switches and clock reset."""
    return reset_sandbox(served[1])


def errcode_of(call):
    with pytest.raises(WeChatClientException) as info:
        call()
    return info.value.errcode


def mint(sandbox, user):
    answer = requests.post(sandbox + 'sandbox/login/code', json={'user': user}, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()['code']


def advance(sandbox, seconds):
    assert requests.post(sandbox + 'sandbox/clock', json={'advance_s': seconds}, timeout=5).ok


def force(sandbox, api, errcode):
    answer = requests.post(sandbox + 'sandbox/api/fail-next', json={'api': api, 'count': 1, 'errcode': errcode},
                           timeout=5)
    assert answer.status_code == 200, answer.text


def bind(sandbox, appid, bound):
    answer = requests.post(sandbox + 'sandbox/open-platform', json={'appid': appid, 'bound': bound}, timeout=5)
    assert answer.status_code == 200, answer.text


# --- the sandbox's rules ---------------------------------------------------------------------------
def test_a_login_code_works_once_then_40163(sandbox):
    client = PlainClient(sandbox)
    assert client.wxa.code_to_session('amy.1')['openid'] == openid_for(DEFAULT_APP_ID, 'amy')
    assert errcode_of(lambda: client.wxa.code_to_session('amy.1')) == 40163
    assert client.wxa.code_to_session('amy')['openid'] == openid_for(DEFAULT_APP_ID, 'amy')  # a name is a code too
    assert errcode_of(lambda: client.wxa.code_to_session('amy')) == 40163


def test_a_minted_code_is_good_for_five_minutes_then_40029(sandbox):
    client = PlainClient(sandbox)
    fresh, stale = mint(sandbox, 'ben'), mint(sandbox, 'ben')
    advance(sandbox, 299)
    assert client.wxa.code_to_session(fresh)['openid'] == openid_for(DEFAULT_APP_ID, 'ben')
    advance(sandbox, 2)
    assert errcode_of(lambda: client.wxa.code_to_session(stale)) == 40029


def test_every_code_of_a_person_is_the_same_person(sandbox):
    client = PlainClient(sandbox)
    ids = {client.wxa.code_to_session(code)['openid'] for code in (mint(sandbox, 'cat'), mint(sandbox, 'cat'),
                                                                     'cat', 'cat.mine')}
    assert ids == {openid_for(DEFAULT_APP_ID, 'cat')}
    assert client.wxa.code_to_session('h5-猫.x1')['openid'] == openid_for(DEFAULT_APP_ID, 'h5-猫')


@pytest.mark.parametrize('body', [{}, {'user': ''}, {'user': 'a b'}, {'user': 7}])
def test_minting_needs_a_test_user_name(sandbox, body):
    answer = requests.post(sandbox + 'sandbox/login/code', json=body, timeout=5)
    assert answer.status_code == 400 and answer.json()['error']['code'] == 'invalid_field'


@pytest.mark.parametrize('errcode', [-1, 45011, 40226])
def test_wechats_rare_login_errors_can_be_forced_once(sandbox, errcode):
    client = PlainClient(sandbox)
    force(sandbox, 'sns/jscode2session', errcode)
    assert errcode_of(lambda: client.wxa.code_to_session('dan.1')) == errcode
    assert client.wxa.code_to_session('dan.2')['openid']


def test_unionid_comes_only_while_the_mini_program_is_bound_to_an_open_platform(sandbox):
    client = PlainClient(sandbox)
    assert client.wxa.code_to_session('eve.1')['unionid'] == unionid_for('eve')
    bind(sandbox, DEFAULT_APP_ID, False)
    assert 'unionid' not in client.wxa.code_to_session('eve.2')
    assert requests.get(sandbox + 'sandbox/open-platform', timeout=5).json()['apps'][DEFAULT_APP_ID] is False
    reset_sandbox(sandbox)  # back to the settings' binding
    assert client.wxa.code_to_session('eve.3')['unionid'] == unionid_for('eve')


def test_the_setting_starts_an_app_unbound():
    with running_sandbox({'SANDBOX_UNBOUND_APPS': DEFAULT_APP_ID}) as (_, base):
        session = PlainClient(base).wxa.code_to_session('fay.1')
        assert session['openid'] == openid_for(DEFAULT_APP_ID, 'fay') and 'unionid' not in session


@pytest.mark.parametrize('body', [{'appid': 'wx-unknown', 'bound': False}, {'appid': DEFAULT_APP_ID},
                                  {'appid': DEFAULT_APP_ID, 'bound': 'no'}])
def test_binding_needs_a_known_app_and_a_boolean(sandbox, body):
    answer = requests.post(sandbox + 'sandbox/open-platform', json=body, timeout=5)
    assert answer.status_code == 400 and answer.json()['error']['code'] == 'invalid_field'


# --- the app ---------------------------------------------------------------------------------------
class _Later:
    """A WSGI app set after the server started (the app needs the server's URL to be built)."""
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def pinke(sandbox, clean_db, database, redis_url, key_prefix, tmp_path):
    """The app on this module's sandbox: (Flask app, base URL)."""
    from groupbuy.models import db
    from wsgi import create_app
    later = _Later()
    server, base = serve(later)
    base += '/'
    url = os.environ.get('DATABASE_URL') or f'sqlite:///{database.database}'
    later.app = create_app({
        'database_url': url, 'redis_url': redis_url, 'data_dir': str(tmp_path), 'key_prefix': key_prefix,
        'secret_key': 'k', 'admin_token': 'a', 'quiet_hours': '', 'public_base_url': base.rstrip('/'),
        'wechat_api_base_url': sandbox, 'wechat_pay_base_url': sandbox,
        'wechat_open_base_url': sandbox + 'connect/', 'wechat_mp_base_url': sandbox})
    try:
        yield later.app, base
    finally:
        server.shutdown()
        later.app.extensions['pinke'].database.close()
        db.initialize(database)  # the app bound the models to its own connection; give them back


def wxlogin(pinke, code):
    answer = pinke[0].test_client().post('/api/auth/wxlogin', json={'code': code})
    return answer.status_code, answer.get_json()


def test_a_used_expired_or_forged_code_asks_the_client_for_a_new_one(pinke, sandbox):
    assert wxlogin(pinke, 'gus.1')[0] == 200
    status, body = wxlogin(pinke, 'gus.1')
    assert (status, body['error']['code']) == (401, 'unauthorized')
    assert 'wx.login' in body['error']['message']
    assert body['error']['details'] == {'retry': 'wx.login', 'wechat_errcode': 40163}
    stale = mint(sandbox, 'gus')
    advance(sandbox, 301)
    status, body = wxlogin(pinke, stale)
    assert (status, body['error']['details']['wechat_errcode']) == (401, 40029)
    assert wxlogin(pinke, 'bad-code')[0] == 401
    assert wxlogin(pinke, mint(sandbox, 'gus'))[0] == 200  # a fresh code works


@pytest.mark.parametrize('api, errcode', [('sns/jscode2session', 45011), ('sns/jscode2session', -1),
                                          ('cgi-bin/token', -1)])
def test_a_busy_or_rate_limiting_wechat_is_a_retryable_502(pinke, sandbox, api, errcode):
    force(sandbox, api, errcode)
    status, body = wxlogin(pinke, 'hal.1')
    assert (status, body['error']['code']) == (502, 'wechat_unavailable')
    assert body['error']['details'] == {'retry': 'later', 'wechat_errcode': errcode}
    assert wxlogin(pinke, 'hal.2')[0] == 200


def test_a_user_wechat_blocks_is_turned_away_with_403(pinke, sandbox):
    force(sandbox, 'sns/jscode2session', 40226)
    status, body = wxlogin(pinke, 'ida.1')
    assert (status, body['error']['code'], body['error']['details']['wechat_errcode']) == (403, 'forbidden', 40226)


def test_a_user_without_unionid_signs_in_pays_and_hears_from_us(pinke, sandbox):
    app = pinke[0]
    bind(sandbox, DEFAULT_APP_ID, False)
    status, body = wxlogin(pinke, 'jo.1')
    assert status == 200
    user = User.get_by_id(body['user']['id'])
    assert user.openid == openid_for(DEFAULT_APP_ID, 'jo') and user.unionid is None
    client, auth = app.test_client(), {'Authorization': f"Bearer {body['token']}"}
    template = client.get('/api/message-templates').get_json()['templates']['group_opened']
    assert client.post('/api/me/subscriptions', json={'template_ids': [template]}, headers=auth).status_code == 200
    requests.post(sandbox + 'sandbox/subscriptions', json={'openid': user.openid, 'template_ids': [template]},
                  timeout=5)
    opened = client.post('/api/groups', json={'campaign_id': campaign().id}, headers=auth)
    assert opened.status_code == 201, opened.get_json()
    prepay_id = opened.get_json()['pay_params']['package'].removeprefix('prepay_id=')
    assert requests.post(sandbox + 'sandbox/pay/confirm', json={'prepay_id': prepay_id}, timeout=5).ok
    order_id = opened.get_json()['order']['id']
    wait_until(lambda: Order.get_by_id(order_id).status == 'paid', what='the payment notification handled')
    from jobs import tasks  # what the notifications worker runs
    [pending] = Notification.select().where(Notification.user == user.id, Notification.kind == 'group_opened')
    assert tasks.deliver_notification(pending.id) == 'subscribe'
    sent = requests.get(sandbox + 'sandbox/messages', params={'openid': user.openid}, timeout=5).json()['messages']
    assert [(m['kind'], m['template']) for m in sent] == [('subscribe', template)]
