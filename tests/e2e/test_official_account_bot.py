"""The official-account bot, driven the way WeChat drives it: the sandbox signs and encrypts (safe
mode) a follower's message or event and posts it to the running app's /wechat/callback. A forger
holds what the URL gives away — signature, timestamp, nonce — and nothing else."""
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


def resend(stack, earlier: dict) -> dict:
    """The same request again, byte for byte: WeChat's retry (or a replay)."""
    return send(stack, resend=earlier['sent'])


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


def paying_member(stack, prefix: str) -> tuple[str, str]:
    """(test user, share code): a new test user who joined and paid a 3-seat group, which still lacks one."""
    _, share = formed_group(stack, group_size=3)
    member = name(prefix)
    joined = stack.join(stack.login(member), share).json()
    assert stack.confirm(joined).status_code == 200
    wait_until(lambda: stack.group(share)['paid_count'] == 2, what='member paid')
    return member, share


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
    member, share = paying_member(stack, 'member')
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


def test_a_message_wechat_retries_is_answered_as_first_and_acted_on_once(stack):
    _, share = formed_group(stack, group_size=2)
    fan = name('retry')
    first = send(stack, user=fan, type='event', event='subscribe', scene=share)
    retries = [resend(stack, first) for _ in range(2)]  # WeChat heard no answer in 5 s: the same request again
    assert [said(r) for r in retries] == [said(first)] * 2 and '还差1人成团' in said(first)
    created = int(time.time()) - 10  # the same push under a new nonce is still that push (sender + time + event)
    scan = dict(user=fan, type='event', event='SCAN', scene=share, create_time=created)
    assert said(send(stack, **scan)) == said(send(stack, **scan))
    text = dict(user=fan, content='帮助', msg_id=secrets.randbits(60))
    assert said(send(stack, **text)) == said(send(stack, **text))
    _, other = formed_group(stack, group_size=2)
    send(stack, user=fan, type='event', event='SCAN', scene=other)  # queued after any duplicate card

    def of_group(code):
        return [c for c in cards(stack, first['openid']) if f'code={code}' in c['data']['pagepath']]
    wait_until(lambda: of_group(other), what='the card of the last scan')
    assert len(of_group(share)) == 2  # one for the follow, one for the scan: the worker takes jobs in order


def test_bad_bodies_are_refused_without_a_500(stack):
    for body in (b'', b'not xml', b'<xml><MsgType>text</MsgType></xml>'):
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        signature = signed(timestamp, nonce)
        answer = requests.post(stack.api + '/wechat/callback', data=body, timeout=5,
                               params={'signature': signature, 'timestamp': timestamp, 'nonce': nonce})
        assert answer.status_code in (400, 403), (body, answer.text)  # safe mode refuses plaintext first


def follower_with_a_live_group(stack) -> tuple[str, str]:
    """(test user, share code): a member of a forming group who follows the account, tied to their
    mini-program self (so 我的拼团 lists the group)."""
    member, share = paying_member(stack, 'victim')
    send(stack, user=member, type='event', event='subscribe')
    wait_until(lambda: share in said(send(stack, user=member, content='我的拼团')), what='their groups listed')
    return member, share


def test_in_safe_mode_a_forged_plaintext_push_cannot_read_a_followers_groups(stack):
    victim, share = follower_with_a_live_group(stack)
    genuine = send(stack, user=victim, content='帮助')
    captured = genuine['sent']['query']  # e.g. from an access log
    forged = (f'<xml><ToUserName>gh_sandbox_oa</ToUserName><FromUserName>{genuine["openid"]}</FromUserName>'
              f'<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType><Content>我的拼团</Content>'
              f'<MsgId>{secrets.randbits(60)}</MsgId></xml>')
    plain_query = {k: v for k, v in captured.items() if k not in ('encrypt_type', 'msg_signature')}
    for query in (plain_query, captured):
        answer = requests.post(stack.api + '/wechat/callback', params=query, data=forged.encode(), timeout=5)
        assert answer.status_code in (400, 403) and share not in answer.text, answer.text
    signed_plaintext = send(stack, user=victim, content='我的拼团', encrypt=False)  # even signed by WeChat's token
    assert signed_plaintext['status_code'] == 403 and share not in signed_plaintext['body']


def test_a_nonce_is_accepted_with_one_body_only(stack):
    fan = name('nonce')
    first = send(stack, user=fan, content='帮助')
    query = first['sent']['query']
    other = send(stack, user=fan, type='event', event='unsubscribe', nonce=query['nonce'],
                 timestamp=query['timestamp'])  # validly signed and encrypted, but the nonce is spent
    assert (other['status_code'], other['reply']) == (403, None)
    again = resend(stack, first)  # the same request again is WeChat's retry: the first reply
    assert again['status_code'] == 200 and said(again) == said(first)


def test_the_access_log_shows_no_query_string_of_wechats_callbacks(stack):
    follower_with_a_live_group(stack)  # pays (the notify callback) and talks to the bot
    url_check = {'signature': signed('1', 'n'), 'timestamp': '1', 'nonce': 'n', 'echostr': 'e'}
    requests.get(stack.api + '/wechat/callback', params=url_check, timeout=5)

    def logged():
        lines = stack.log_path.read_text(errors='replace').splitlines()
        ours = [line for line in lines if '/wechat/callback' in line or '/api/pay/' in line]
        return ours if any('/api/pay/notify' in line for line in ours) and \
            any('GET /wechat/callback' in line for line in ours) else None
    lines = wait_until(logged, what='the callbacks in the access log')
    leaks = [line for line in lines if any(word in line for word in ('signature=', 'nonce=', 'timestamp=', '?'))]
    assert leaks == []
    # Nor does the sandbox's request log print the app secret and tokens the app sends it in query strings.
    log = stack.log_path.read_text(errors='replace')
    assert '/cgi-bin/token' in log or '/pay/unifiedorder' in log  # the sandbox's lines are there
    assert not [word for word in ('secret=', 'access_token=', 'js_code=') if word in log]


def test_a_follower_from_before_pinke_went_live_gets_their_groups_on_first_ask(stack):
    member, share = paying_member(stack, 'early')
    # they followed long ago: Pinke never got their follow, and this is the first thing it hears from them
    text = said(send(stack, user=member, content='我的拼团'))
    assert share in text and '还差1人成团' in text
