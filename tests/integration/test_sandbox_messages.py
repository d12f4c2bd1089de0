"""The sandbox's message endpoints, driven by wechatpy as the app drives them."""
import threading

import pytest
import requests
from werkzeug.serving import make_server
from wechatpy.exceptions import WeChatClientException

from config.wechat import BaseUrlWeChatClient
from wechat_sandbox import create_sandbox_app
from wechat_sandbox.credentials import DEFAULT_APP_ID, DEFAULT_APP_SECRET


@pytest.fixture(scope='module')
def sandbox():
    app = create_sandbox_app()
    server = make_server('127.0.0.1', 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_port}/'
    server.shutdown()


@pytest.fixture
def client(sandbox):
    requests.post(sandbox + 'sandbox/reset', timeout=5)
    return BaseUrlWeChatClient(DEFAULT_APP_ID, DEFAULT_APP_SECRET, base_url=sandbox)


def messages(sandbox, openid):
    return requests.get(sandbox + 'sandbox/messages', params={'openid': openid}, timeout=5).json()['messages']


def test_a_subscribe_message_needs_one_consent_per_send(sandbox, client):
    data = {'thing1': {'value': '还差 1 人'}}
    with pytest.raises(WeChatClientException) as refused:
        client.wxa.send_subscribe_message('o-amy', 'tpl-join', data, page='pages/group?c=x')
    assert refused.value.errcode == 43101
    requests.post(sandbox + 'sandbox/subscriptions', json={'openid': 'o-amy', 'template_ids': ['tpl-join']})
    client.wxa.send_subscribe_message('o-amy', 'tpl-join', data, page='pages/group?c=x')
    with pytest.raises(WeChatClientException):
        client.wxa.send_subscribe_message('o-amy', 'tpl-join', data)
    sent = messages(sandbox, 'o-amy')
    assert [(m['kind'], m['template'], m['data']) for m in sent] == [('subscribe', 'tpl-join', data)]


def test_template_messages_reach_followers_only(sandbox, client):
    client.message.send_template('o-oa', 'tpl-oa', {'first': {'value': 'hi'}},
                                 mini_program={'appid': DEFAULT_APP_ID, 'pagepath': 'pages/g'})
    requests.post(sandbox + 'sandbox/oa/followers', json={'openid': 'o-oa', 'following': False})
    with pytest.raises(WeChatClientException) as refused:
        client.message.send_template('o-oa', 'tpl-oa', {'first': {'value': 'again'}})
    assert refused.value.errcode == 43004
    assert [m['data']['first']['value'] for m in messages(sandbox, 'o-oa')] == ['hi']


def test_customer_service_cards_are_kept_and_forced_failures_fail(sandbox, client):
    card = {'title': '还差2人', 'appid': DEFAULT_APP_ID, 'pagepath': 'pages/group?c=abc', 'thumb_media_id': 'm1'}
    client.message.send_mini_program_page('o-cs', card)
    requests.post(sandbox + 'sandbox/messages/fail-next', json={'count': 1, 'errcode': 45047})
    with pytest.raises(WeChatClientException) as failed:
        client.message.send_text('o-cs', 'hello')
    assert failed.value.errcode == 45047
    client.message.send_text('o-cs', 'hello')
    assert [(m['msgtype'], m['data']) for m in messages(sandbox, 'o-cs')] == \
        [('miniprogrampage', card), ('text', {'content': 'hello'})]
