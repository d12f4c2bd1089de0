"""`/wechat/callback` cannot be forged (issue 8 §3), through the app on the real database and Redis:
WeChat's pushes are built here with wechatpy as WeChat builds them; a forger holds only what the
URL gives away (signature, timestamp, nonce: any access log or proxy may have it)."""
import secrets
import time

import pytest
import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from groupbuy import groups, identity
from groupbuy.models import Group, User
from tests.support.builders import campaign, pay, user
from wechat_sandbox.credentials import DEFAULT_OA_AES_KEY, DEFAULT_OA_APP_ID, DEFAULT_OA_TOKEN


@pytest.fixture
def app(make_app):
    """Safe mode: the sandbox's EncodingAESKey is configured."""
    application = make_app()
    assert application.extensions['pinke'].settings.wechat_oa_aes_key
    return application


@pytest.fixture
def plain_app(make_app):
    """Plaintext mode: no EncodingAESKey, so bodies are not signed at all."""
    return make_app(wechat_oa_aes_key='')


def push_xml(openid: str, **fields) -> str:
    fields = {'ToUserName': 'gh_oa', 'FromUserName': openid, 'CreateTime': str(int(time.time())), **fields}
    return xmltodict.unparse({'xml': fields}, full_document=False)


def wechat(xml: str, encrypt: bool = True, nonce: str | None = None, timestamp: str | None = None):
    """(query, body) of a push as WeChat sends it, with a fresh nonce unless given one."""
    timestamp, nonce = timestamp or str(int(time.time())), nonce or str(secrets.randbelow(10 ** 10))
    signer = WeChatSigner()
    signer.add_data(DEFAULT_OA_TOKEN, timestamp, nonce)
    query = {'signature': signer.signature, 'timestamp': timestamp, 'nonce': nonce, 'openid': 'x'}
    if not encrypt:
        return query, xml
    envelope = xmltodict.parse(WeChatCrypto(DEFAULT_OA_TOKEN, DEFAULT_OA_AES_KEY, DEFAULT_OA_APP_ID)
                               .encrypt_message(xml, nonce, timestamp))['xml']
    body = xmltodict.unparse({'xml': {'ToUserName': 'gh_oa', 'Encrypt': envelope['Encrypt']}}, full_document=False)
    return {**query, 'encrypt_type': 'aes', 'msg_signature': envelope['MsgSignature']}, body


def post(app, query, body):
    return app.test_client().post('/wechat/callback', query_string=query, data=body,
                                  headers={'Content-Type': 'text/xml'})


def decrypted(answer) -> str:
    doc = xmltodict.parse(answer.get_data(as_text=True))['xml']
    crypto = WeChatCrypto(DEFAULT_OA_TOKEN, DEFAULT_OA_AES_KEY, DEFAULT_OA_APP_ID)
    return xmltodict.parse(crypto.decrypt_message(answer.get_data(as_text=True), doc['MsgSignature'],
                                                  doc['TimeStamp'], doc['Nonce']))['xml']['Content']


def victim_with_a_live_group(deps) -> tuple[str, str]:
    """(oa_openid, share code) of a follower tied to their mini-program self, in a forming group."""
    member = identity.sign_in_miniapp(deps, 'mp-vic', 'union-vic').user
    checkout = groups.open_group(deps, user(), campaign().id, '127.0.0.1')
    pay(deps, checkout.order)
    pay(deps, groups.join_group(deps, member, checkout.group.share_code, '127.0.0.1').order)
    identity.sign_in_official_account(deps, 'oa-vic', 'union-vic', channel='oa_follow')
    identity.set_following(deps, 'oa-vic', True)
    return 'oa-vic', Group.get_by_id(checkout.group.id).share_code


def test_in_safe_mode_a_plaintext_push_is_refused_however_well_signed(app, deps):
    victim, share = victim_with_a_live_group(deps)
    forged = push_xml(victim, MsgType='text', Content='我的拼团', MsgId='1')
    signed_plaintext = post(app, *wechat(forged, encrypt=False))
    assert signed_plaintext.status_code == 403 and share not in signed_plaintext.get_data(as_text=True)
    captured, _ = wechat(push_xml(victim, MsgType='text', Content='帮助', MsgId='2'))
    for query in (captured, {k: v for k, v in captured.items() if k not in ('encrypt_type', 'msg_signature')}):
        answer = post(app, query, forged)  # a query string from an access log, a body of the forger's making
        assert answer.status_code in (400, 403) and share not in answer.get_data(as_text=True)


def test_the_url_check_still_echoes_in_safe_mode(app):
    query, _ = wechat('', encrypt=False)
    answer = app.test_client().get('/wechat/callback', query_string={**query, 'echostr': 'hello'})
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, 'hello')


def test_in_plaintext_mode_a_captured_query_string_cannot_carry_another_body(plain_app, deps):
    victim, share = victim_with_a_live_group(deps)
    query, body = wechat(push_xml('oa-someone', MsgType='text', Content='帮助', MsgId='3'), encrypt=False)
    assert post(plain_app, query, body).status_code == 200  # WeChat's push
    forged = post(plain_app, query, push_xml(victim, MsgType='text', Content='我的拼团', MsgId='4'))
    assert forged.status_code == 403 and share not in forged.get_data(as_text=True)
    forged_unfollow = post(plain_app, query, push_xml(victim, MsgType='event', Event='unsubscribe'))
    assert forged_unfollow.status_code == 403 and User.get(User.oa_openid == victim).follows_oa


def test_a_nonce_wechat_used_is_refused_with_another_encrypted_body(app):
    nonce, timestamp = str(secrets.randbelow(10 ** 10)), str(int(time.time()))
    first = post(app, *wechat(push_xml('oa-ann', MsgType='text', Content='帮助', MsgId='5'), nonce=nonce,
                              timestamp=timestamp))
    assert first.status_code == 200
    again = post(app, *wechat(push_xml('oa-ann', MsgType='text', Content='拼团', MsgId='6'), nonce=nonce,
                              timestamp=timestamp))
    assert again.status_code == 403


def test_wechats_retry_the_same_request_again_gets_the_first_reply_and_acts_once(app, deps):
    _, share = victim_with_a_live_group(deps)
    query, body = wechat(push_xml('oa-bo', MsgType='event', Event='subscribe', EventKey=f'qrscene_{share}'))
    answers = [post(app, query, body) for _ in range(3)]  # WeChat heard no answer in 5 s, twice
    assert [a.status_code for a in answers] == [200, 200, 200]
    replies = {decrypted(a) for a in answers}
    assert len(replies) == 1 and '还差1人成团' in replies.pop()
    queued = [(job.func_name, job.args[0]) for queue in app.extensions['pinke'].queues.all() for job in queue.jobs]
    assert queued.count(('jobs.tasks.run', 'send_group_card')) == 1


DTD_PAYLOADS = [
    ('<!DOCTYPE xml [<!ENTITY a "我的拼团">]><xml><ToUserName>g</ToUserName><FromUserName>oa-vic</FromUserName>'
     '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&a;</Content><MsgId>7</MsgId></xml>'),
    ('<!DOCTYPE xml [<!ENTITY a SYSTEM "file:///etc/passwd">]><xml><FromUserName>oa-vic</FromUserName>'
     '<MsgType>text</MsgType><Content>&a;</Content></xml>'),
    ('<!DOCTYPE lolz [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;&l;&l;&l;&l;&l;&l;">'
     '<!ENTITY l3 "&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;">]><xml><Content>&l3;</Content></xml>'),
]
FIELD_NAMES = ['FromUserName', 'MsgType', 'ToUserName', 'CreateTime', 'Content', 'MsgId', 'Event', 'EventKey',
               'Ticket', 'PicUrl', 'MediaId', 'Location_X', 'Latitude', 'Encrypt']
field_values = st.one_of(st.text(max_size=80), st.integers().map(str),
                         st.sampled_from(['text', 'event', 'image', 'subscribe', 'unsubscribe', 'SCAN', 'CLICK',
                                          'VIEW', 'LOCATION', 'MY_GROUPS', 'qrscene_', '我的拼团', 'x' * 300]))
wechat_shaped = st.fixed_dictionaries({'FromUserName': field_values, 'MsgType': field_values},
                                      optional={name: field_values for name in FIELD_NAMES[2:]}).map(
    lambda fields: xmltodict.unparse({'xml': fields}, full_document=False))
bodies = st.one_of(wechat_shaped, st.text(max_size=200), st.sampled_from(DTD_PAYLOADS))


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(xml=bodies)
def test_any_body_validly_signed_and_encrypted_gets_no_5xx_and_no_entity_expansion(app, xml):
    answer = post(app, *wechat(xml))
    assert answer.status_code < 500, (xml, answer.get_data(as_text=True))
    if answer.status_code == 200 and answer.get_data(as_text=True) != 'success':
        content = decrypted(answer)
        assert 'lollol' not in content and 'root:' not in content


@pytest.mark.parametrize('xml', DTD_PAYLOADS)
def test_a_dtd_is_refused_before_any_parser_sees_it(app, deps, xml):
    victim_with_a_live_group(deps)
    answer = post(app, *wechat(xml))
    assert answer.status_code == 400 and 'DTD' in answer.get_data(as_text=True)


def test_an_absurd_timestamp_with_a_valid_signature_is_refused_not_a_500(app):
    """The sandbox's token is public: a signature over a 400-digit timestamp is easy to make."""
    query, body = wechat(push_xml('oa-x', MsgType='text', Content='hi'), timestamp='9' * 400)
    assert post(app, query, body).status_code == 403
