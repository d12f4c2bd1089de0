"""The sandbox's message endpoints checked as WeChat checks them, driven by wechatpy as the app drives
them — and the app's messenger and message catalogue against those checks."""
import json
import logging

import pytest
import requests
from wechatpy.exceptions import WeChatClientException
from werkzeug.wrappers import Response

import templates_msg
from gateways.messenger import WeChatMessenger
from gateways.sms import LoggingSmsProvider
from gateways.wechat import BaseUrlWeChatClient
from groupbuy import notifications
from groupbuy.models import Notification, SubscriptionConsent, User, utcnow
from groupbuy.ports import MessengerError
from tests.support.sandbox_server import running_sandbox, serve
from wechat_sandbox.credentials import DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_OA_APP_ID, DEFAULT_OA_APP_SECRET
from wechat_sandbox.login import openid_for


@pytest.fixture(scope='module')
def sandbox():
    with running_sandbox() as (_, base):
        yield base + '/'


@pytest.fixture
def client(sandbox):
    """The mini-program's client; the sandbox forgets messages, consents and clock moves first."""
    requests.post(sandbox + 'sandbox/reset', timeout=5)
    return BaseUrlWeChatClient(DEFAULT_APP_ID, DEFAULT_APP_SECRET, base_url=sandbox)


@pytest.fixture
def oa(client, sandbox):
    return BaseUrlWeChatClient(DEFAULT_OA_APP_ID, DEFAULT_OA_APP_SECRET, base_url=sandbox)


def messages(sandbox, openid):
    return requests.get(sandbox + 'sandbox/messages', params={'openid': openid}, timeout=5).json()['messages']


def consent(sandbox, openid, *template_ids):
    requests.post(sandbox + 'sandbox/subscriptions', json={'openid': openid, 'template_ids': list(template_ids)},
                  timeout=5)


def errcode_of(call):
    with pytest.raises(WeChatClientException) as info:
        call()
    return info.value.errcode


def broadcast(value):
    return {'thing1': {'value': value}}


# --- subscribe messages ----------------------------------------------------------------------------
def test_a_subscribe_message_needs_one_consent_per_send(sandbox, client):
    data = broadcast('还差 1 人')
    assert errcode_of(lambda: client.wxa.send_subscribe_message('o-amy', 'tpl-broadcast', data)) == 43101
    consent(sandbox, 'o-amy', 'tpl-broadcast')
    client.wxa.send_subscribe_message('o-amy', 'tpl-broadcast', data, page='pages/group?c=x')
    assert errcode_of(lambda: client.wxa.send_subscribe_message('o-amy', 'tpl-broadcast', data)) == 43101
    sent = messages(sandbox, 'o-amy')
    assert [(m['kind'], m['template'], m['data']) for m in sent] == [('subscribe', 'tpl-broadcast', data)]


def test_a_template_the_mini_program_does_not_hold_is_40037(sandbox, client):
    consent(sandbox, 'o-bo', 'tpl-made-up')
    assert errcode_of(lambda: client.wxa.send_subscribe_message('o-bo', 'tpl-made-up', broadcast('hi'))) == 40037
    assert messages(sandbox, 'o-bo') == []


def test_a_missing_touser_is_40003_on_every_kind_of_message(sandbox, client, oa):
    assert errcode_of(lambda: client.wxa.send_subscribe_message('', 'tpl-broadcast', broadcast('hi'))) == 40003
    assert errcode_of(lambda: oa.message.send_template('', 'oa-tpl-broadcast', {'first': {'value': 'hi'}})) == 40003
    assert errcode_of(lambda: oa.message.send_text('', 'hello')) == 40003


LIMITS = [  # (template keywords, value the rule takes at its limit, value it refuses)
    ('thing1', '一' * 20, '一' * 21),
    ('thing1', 'Python 入门 (第 2 版) x', ' '),
    ('phrase2', '拼团成功啦', '拼团成功啦!'),
    ('phrase2', '已成团', 'done'),
    ('time3', '2019年10月1日 15:01', '明天下午'),
    ('time3', '05月20日 14:30~16:00', '24:00'),
    ('date4', '2019年10月1日', '15:01'),
    ('amount5', '¥1234567890.99', '¥12345678901'),
    ('amount5', '99.5元', 'RMB99'),
    ('number6', '1' * 32, '1' * 33),
    ('number6', '3.5', '-1'),
    ('character_string7', 'PK-2024_0001', '拼课0001'),
    ('character_string7', 'A' * 32, 'A' * 33),
    ('name8', '欧阳娜娜娜娜娜娜娜娜', '欧阳娜娜娜娜娜娜娜娜娜'),
    ('name8', 'Anna Smith', 'Anna2'),
    ('letter9', 'abc', 'abc1'),
    ('symbol10', '#@!', '#@!#@!'),
    ('phone_number11', '+86-0766-66888866', '电话'),
    ('car_number12', '粤A8Z888挂', '粤A8Z8888挂'),
]


@pytest.mark.parametrize('keyword, fits, breaks', LIMITS)
def test_subscribe_data_follows_wechats_keyword_rules(sandbox, client, keyword, fits, breaks):
    requests.post(sandbox + 'sandbox/templates', json={'kind': 'subscribe', 'template_id': 'tpl-rule',
                                                       'keywords': [keyword]}, timeout=5)
    consent(sandbox, 'o-cy', 'tpl-rule', 'tpl-rule')
    with pytest.raises(WeChatClientException) as refused:
        client.wxa.send_subscribe_message('o-cy', 'tpl-rule', {keyword: {'value': breaks}})
    assert refused.value.errcode == 47003 and f'data.{keyword}.value' in refused.value.errmsg
    client.wxa.send_subscribe_message('o-cy', 'tpl-rule', {keyword: {'value': fits}})
    assert [m['data'][keyword]['value'] for m in messages(sandbox, 'o-cy')] == [fits]


def test_every_keyword_of_the_template_needs_a_value(sandbox, client):
    consent(sandbox, 'o-di', 'tpl-group_succeeded')
    data = {'thing1': {'value': 'Python 入门'}, 'thing3': {'value': '开始学习'}}  # no phrase2
    assert errcode_of(lambda: client.wxa.send_subscribe_message('o-di', 'tpl-group_succeeded', data)) == 47003


@pytest.mark.parametrize('body', [{}, {'kind': 'sms', 'template_id': 't', 'keywords': ['thing1']},
                                  {'kind': 'subscribe', 'template_id': 't', 'keywords': []},
                                  {'kind': 'subscribe', 'template_id': 't', 'keywords': ['thing 1']}])
def test_adding_a_template_needs_kind_id_and_keywords(sandbox, client, body):
    answer = requests.post(sandbox + 'sandbox/templates', json=body, timeout=5)
    assert answer.status_code == 400 and answer.json()['error']['code'] == 'invalid_field'


# --- official-account template and customer-service messages -----------------------------------------
def test_template_messages_need_a_held_template_and_reach_followers_only(sandbox, oa):
    oa.message.send_template('o-oa', 'oa-tpl-broadcast', {'first': {'value': 'hi'}},
                             mini_program={'appid': DEFAULT_APP_ID, 'pagepath': 'pages/g'})
    assert errcode_of(lambda: oa.message.send_template('o-oa', 'tpl-oa', {'first': {'value': 'x'}})) == 40037
    requests.post(sandbox + 'sandbox/oa/followers', json={'openid': 'o-oa', 'following': False}, timeout=5)
    assert errcode_of(lambda: oa.message.send_template('o-oa', 'oa-tpl-broadcast', {'first': {'value': 'x'}})) == 43004
    assert [m['data']['first']['value'] for m in messages(sandbox, 'o-oa')] == ['hi']


def test_customer_service_messages_only_within_48_hours_of_the_users_last_interaction(sandbox, oa):
    card = {'title': '还差2人', 'appid': DEFAULT_APP_ID, 'pagepath': 'pages/group?c=abc', 'thumb_media_id': 'm1'}
    assert errcode_of(lambda: oa.message.send_mini_program_page('o-cs', card)) == 45015  # never talked to us
    requests.post(sandbox + 'sandbox/oa/interactions', json={'openid': 'o-cs'}, timeout=5)
    oa.message.send_mini_program_page('o-cs', card)
    requests.post(sandbox + 'sandbox/clock', json={'advance_s': 48 * 3600 - 60}, timeout=5)
    oa.message.send_text('o-cs', 'still in time')  # (its access token expired meanwhile: renewed on the way)
    requests.post(sandbox + 'sandbox/clock', json={'advance_s': 61}, timeout=5)
    assert errcode_of(lambda: oa.message.send_text('o-cs', 'too late')) == 45015
    assert [(m['msgtype'], m['data']) for m in messages(sandbox, 'o-cs')] == \
        [('miniprogrampage', card), ('text', {'content': 'still in time'})]


def test_a_followers_push_through_the_bot_driver_opens_the_window(sandbox, oa):
    def callback(environ, start_response):
        return Response('success')(environ, start_response)
    server, url = serve(callback)
    try:
        pushed = requests.post(sandbox + 'sandbox/bot/send', json={'user': 'gil', 'content': '我的拼团',
                                                                   'url': url + '/wechat/callback'}, timeout=10)
        assert pushed.status_code == 200, pushed.text
    finally:
        server.shutdown()
    oa.message.send_text(openid_for(DEFAULT_OA_APP_ID, 'gil'), 'hello')


def test_forced_failures_hit_the_next_sends(sandbox, oa):
    requests.post(sandbox + 'sandbox/oa/interactions', json={'openid': 'o-ff'}, timeout=5)
    requests.post(sandbox + 'sandbox/api/fail-next', timeout=5,
                  json={'api': 'cgi-bin/message/custom/send', 'count': 1, 'errcode': 45047})
    assert errcode_of(lambda: oa.message.send_text('o-ff', 'hello')) == 45047
    oa.message.send_text('o-ff', 'hello')
    assert len(messages(sandbox, 'o-ff')) == 1


# --- the app ---------------------------------------------------------------------------------------
EXTREME_FACTS = {  # longer than any field takes: a long course title, a long nickname, a big amount
    'course': '零基础 Python 数据分析与可视化实战训练营（2024 春季班·第 3 期）', 'seats_left': 99,
    'deadline': '12月31日 23:59', 'time_left': '23小时59分钟', 'amount': '12345.67', 'share_code': 'AbCdEf',
    'joiner': '一位昵称非常非常非常非常非常长的同学😀', 'message': '今晚 8 点直播答疑，记得准时参加，过期不候！' * 3,
    'page': 'pages/index/index'}


def test_every_message_the_app_renders_fits_wechats_keyword_rules(sandbox, client, oa):
    messenger = WeChatMessenger(client, oa, DEFAULT_APP_ID, LoggingSmsProvider())
    for kind in templates_msg.KINDS:
        consent(sandbox, 'o-app', messenger.subscribe_template(kind))
        messenger.send_subscribe('o-app', kind, EXTREME_FACTS)
        messenger.send_oa_template('o-app-oa', kind, EXTREME_FACTS)
    sent = messages(sandbox, 'o-app')
    assert [m['template'] for m in sent] == [f'tpl-{kind}' for kind in templates_msg.KINDS]
    assert all(len(v['value']) <= 20 for m in sent for k, v in m['data'].items() if k.startswith('thing'))


def test_the_messenger_passes_misconfigured_messages_to_the_next_channel_and_retries_busy_ones(sandbox, client, oa):
    messenger = WeChatMessenger(client, oa, DEFAULT_APP_ID, LoggingSmsProvider())
    for errcode, refused in ((40037, True), (47003, True), (43101, True), (45009, False), (-1, False)):
        requests.post(sandbox + 'sandbox/api/fail-next', timeout=5, json={
            'api': 'cgi-bin/message/subscribe/send', 'count': 1, 'errcode': errcode})
        with pytest.raises(MessengerError) as failed:
            messenger.send_subscribe('o-map', 'broadcast', {'message': 'hi'})
        assert (failed.value.code, failed.value.refused) == (str(errcode), refused)


@pytest.fixture
def pushes(deps, sandbox, client, oa):
    """deps whose messenger talks to the sandbox; a user reachable by subscribe message and by the
    official account, holding one consent for the broadcast template the app is configured with."""
    templates = templates_msg.default_template_ids()  # Settings.message_templates
    deps.messenger = WeChatMessenger(client, oa, DEFAULT_APP_ID, LoggingSmsProvider(), templates)
    deps.quiet_hours = None
    user = User.create(openid='o-push', oa_openid='o-push-oa', follows_oa=True)

    def deliver(template_id, caplog):
        templates['broadcast'] = (template_id, 'oa-tpl-broadcast')  # as WECHAT_TPL_BROADCAST sets it
        notifications.record_consents(deps, user, [template_id])
        consent(sandbox, 'o-push', template_id)
        n = Notification.create(user=user, kind='broadcast', payload=json.dumps({'message': '今晚答疑'}),
                                dedupe_key=f'test:{template_id}', created_at=utcnow())
        with caplog.at_level(logging.ERROR, logger='gateways.messenger'):
            channel = notifications.deliver_notification(deps, n.id)
        left = SubscriptionConsent.get(SubscriptionConsent.user == user.id,
                                       SubscriptionConsent.template_id == template_id).remaining
        return channel, left
    return deliver


def test_a_template_wechat_does_not_hold_passes_the_message_to_the_official_account(pushes, sandbox, caplog):
    assert pushes('tpl-not-held', caplog) == ('oa_template', 1)  # the consent is kept for a working send
    assert [m['kind'] for m in messages(sandbox, 'o-push-oa')] == ['template']
    assert 'unknown template id' in caplog.text


def test_a_template_whose_keywords_differ_from_the_catalogue_passes_the_message_on(pushes, sandbox, caplog):
    requests.post(sandbox + 'sandbox/templates', json={'kind': 'subscribe', 'template_id': 'tpl-other',
                                                       'keywords': ['phrase1']}, timeout=5)
    assert pushes('tpl-other', caplog) == ('oa_template', 1)
    assert 'template data refused' in caplog.text


def test_rendering_cuts_each_value_to_its_keywords_limit(sandbox, client, oa, monkeypatch):
    """A phrase holds 5 汉字, a Chinese name 10: what the catalogue fills in is cut to fit, per type."""
    monkeypatch.setitem(templates_msg.CATALOGUE, 'broadcast', templates_msg.MessageKind(
        title='t', text='{message}', page='', subscribe={'phrase1': '{state}', 'name2': '{joiner}',
                                                         'thing3': '{message}'}))
    requests.post(sandbox + 'sandbox/templates', json={'kind': 'subscribe', 'template_id': 'tpl-broadcast',
                                                       'keywords': ['phrase1', 'name2', 'thing3']}, timeout=5)
    consent(sandbox, 'o-cut', 'tpl-broadcast')
    WeChatMessenger(client, oa, DEFAULT_APP_ID, LoggingSmsProvider()).send_subscribe(
        'o-cut', 'broadcast', {'state': '拼团进行中请稍候', 'joiner': '欧阳娜娜娜娜娜娜娜娜娜娜', 'message': '长' * 30})
    [sent] = messages(sandbox, 'o-cut')
    assert sent['data'] == {'phrase1': {'value': '拼团进行中'}, 'name2': {'value': '欧阳娜娜娜娜娜娜娜娜'},
                            'thing3': {'value': '长' * 19 + '…'}}
