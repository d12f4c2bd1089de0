"""The official-account bot, driven the way WeChat drives it: the sandbox signs (and encrypts) a
follower's message or event and posts it to the running app's /wechat/callback."""
import hashlib
import secrets
import time

import pytest
import requests

from tools.http_client import wait_until
from wechat_sandbox.credentials import DEFAULT_OA_TOKEN

pytestmark = pytest.mark.e2e


def name(prefix: str) -> str:
    return f'{prefix}-{secrets.token_hex(4)}'


def send(stack, **message) -> dict:
    answer = stack.http.post(stack.sandbox + '/sandbox/bot/send', json=message, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def said(result: dict) -> str:
    assert result['status_code'] == 200, result
    return (result['reply'] or {}).get('Content', '')


def cards(stack, openid: str) -> list[dict]:
    found = stack.http.get(stack.sandbox + '/sandbox/messages', params={'openid': openid, 'kind': 'custom'}).json()
    return [m for m in found['messages'] if m['msgtype'] == 'miniprogrampage']


def signed(timestamp: str, nonce: str) -> str:
    """WeChat's signature of a push: sha1 of the sorted token, timestamp and nonce."""
    return hashlib.sha1(''.join(sorted([DEFAULT_OA_TOKEN, timestamp, nonce])).encode()).hexdigest()


def formed_group(stack, **terms) -> tuple[str, str]:
    campaign = stack.new_campaign(title='Python入门', **terms)
    return stack.open_formed_group(campaign['id'], name('leader'))


def test_following_by_a_groups_qr_code_answers_with_progress_and_sends_the_groups_card(stack):
    _, share = formed_group(stack, group_size=3)
    qr = stack.admin('POST', f'/groups/{share}/qrcode')
    assert qr.status_code == 201, qr.text
    assert requests.get(qr.json()['show_url'], timeout=5).headers['Content-Type'] == 'image/png'
    fan = name('fan')
    first = send(stack, user=fan, type='event', event='scan_qr', ticket=qr.json()['ticket'])
    assert '<Event>subscribe</Event>' in first['sent']['xml'] and f'qrscene_{share}' in first['sent']['xml']
    assert '欢迎关注拼课' in said(first) and '《Python入门》还差2人成团' in said(first)
    card = wait_until(lambda: cards(stack, first['openid']), what='the card in /sandbox/messages')[0]['data']
    assert card['title'] == '还差2人 ¥99 拼《Python入门》'
    assert card['pagepath'] == f'pages/group/index?code={share}' and card['thumb_media_id']
    thumb = requests.get(f"{stack.sandbox}/sandbox/media/{card['thumb_media_id']}", timeout=5)
    assert thumb.headers['Content-Type'] == 'image/png'
    again = send(stack, user=fan, type='event', event='scan_qr', ticket=qr.json()['ticket'])
    assert '<Event>SCAN</Event>' in again['sent']['xml'] and '欢迎' not in said(again)
    wait_until(lambda: len(cards(stack, first['openid'])) == 2, what='a second card for the second scan')


def test_my_groups_by_text_or_menu_lists_live_groups_with_seats_time_and_a_link(stack):
    _, share = formed_group(stack, group_size=3)
    member = name('member')
    joined = stack.join(stack.login(member), share).json()
    assert stack.confirm(joined).status_code == 200
    wait_until(lambda: stack.group(share)['paid_count'] == 2, what='member paid')
    followed = send(stack, user=member, type='event', event='subscribe')  # same test user as the mini-program
    assert '回复「我的拼团」' in said(followed)

    def listed():
        text = said(send(stack, user=member, content='我的拼团'))
        return text if share in text else None
    text = wait_until(listed, what='the follower linked to their mini-program self (unionid job)')
    assert '《Python入门》还差1人成团，剩 ' in text and f'{stack.api}/g/{share}?from=' in text
    menu = said(send(stack, user=member, type='event', event='CLICK', event_key='MY_GROUPS'))
    assert share in menu
    assert '回复「我的拼团」' in said(send(stack, user=member, content='帮助'))
    assert '你还没有进行中的拼团' in said(send(stack, user=name('stranger'), content='拼团'))


def test_encrypted_mode_decrypts_the_message_and_encrypts_the_reply(stack):
    result = send(stack, user=name('secret'), content='帮助', encrypt=True)
    assert result['sent']['query']['encrypt_type'] == 'aes' and 'msg_signature' in result['sent']['query']
    assert '<Encrypt>' in result['body'] and '帮助' not in result['body']  # the wire carries ciphertext
    assert '回复「我的拼团」' in said(result)  # the sandbox decrypted and checked our reply


def test_a_forged_signature_or_an_old_timestamp_is_refused_and_changes_nothing(stack):
    fan = name('forged')
    forged = send(stack, user=fan, type='event', event='subscribe', signature='0' * 40)
    assert (forged['status_code'], forged['reply']) == (403, None)
    stale = send(stack, user=fan, content='帮助', timestamp=int(time.time()) - 3600)
    assert stale['status_code'] == 403
    bad_key = send(stack, user=fan, content='帮助', encrypt=True, aes_key='A' * 43)
    assert bad_key['status_code'] in (400, 403)
    assert cards(stack, forged['openid']) == []


def test_the_url_check_echoes_only_a_signed_request(stack):
    timestamp, nonce = str(int(time.time())), 'n1'
    signature = signed(timestamp, nonce)
    ok = requests.get(stack.api + '/wechat/callback', params={'signature': signature, 'timestamp': timestamp,
                                                              'nonce': nonce, 'echostr': 'hello'}, timeout=5)
    assert (ok.status_code, ok.text) == (200, 'hello')
    bad = requests.get(stack.api + '/wechat/callback', params={'signature': 'x', 'timestamp': timestamp,
                                                               'nonce': nonce, 'echostr': 'hello'}, timeout=5)
    assert bad.status_code == 403 and 'hello' not in bad.text


def test_a_message_wechat_retries_is_handled_once(stack):
    _, share = formed_group(stack, group_size=2)
    fan, created = name('retry'), int(time.time())
    scan = dict(user=fan, type='event', event='subscribe', scene=share, create_time=created)
    first, retry = send(stack, **scan), send(stack, **scan)  # WeChat got no answer in 5 s and sent it again
    assert said(first) == said(retry) and '还差1人成团' in said(first)
    wait_until(lambda: cards(stack, first['openid']), what='the card')
    time.sleep(1.0)  # a second card would have arrived by now
    assert len(cards(stack, first['openid'])) == 1
    text = dict(user=fan, content='帮助', msg_id=secrets.randbits(60))
    assert said(send(stack, **text)) == said(send(stack, **text))


def test_bad_bodies_are_refused_without_a_500(stack):
    for body in (b'', b'not xml', b'<xml><MsgType>text</MsgType></xml>'):
        timestamp, nonce = str(int(time.time())), 'n2'
        signature = signed(timestamp, nonce)
        answer = requests.post(stack.api + '/wechat/callback', data=body, timeout=5,
                               params={'signature': signature, 'timestamp': timestamp, 'nonce': nonce})
        assert answer.status_code == 400, (body, answer.text)
