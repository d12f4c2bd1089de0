"""Every door into a group, over HTTP on the real stack: the H5 link in WeChat's browser (OAuth
through the sandbox), the page outside WeChat, the mini-program card's payload, the poster."""
import io
import secrets
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import zxingcpp
from PIL import Image

from tools.http_client import wait_until

pytestmark = pytest.mark.e2e
WECHAT_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50 NetType/WIFI'


def name(prefix: str) -> str:
    return f'{prefix}-{secrets.token_hex(4)}'


def formed_group(stack, size=3) -> tuple[str, str]:
    campaign = stack.new_campaign(title='Python入门', group_size=size)
    return stack.open_formed_group(campaign['id'], name('leader'))


def browser() -> requests.Session:
    session = requests.Session()
    session.headers['User-Agent'] = WECHAT_UA
    return session


def through_wechat(stack, phone: requests.Session, answer: requests.Response, user: str) -> requests.Response:
    """Follow our redirect to WeChat's authorize page, pick `user`, and come back with the code."""
    assert answer.status_code == 302, answer.text
    authorize = answer.headers['Location'].split('#')[0]
    assert authorize.startswith(stack.sandbox + '/connect/oauth2/authorize?')
    wechat = requests.get(authorize, params={'user': user}, allow_redirects=False, timeout=5)
    assert wechat.status_code == 302
    return phone.get(wechat.headers['Location'], allow_redirects=False, timeout=10)


def scope_of(answer: requests.Response) -> str:
    return dict(parse_qsl(urlsplit(answer.headers['Location']).query))['scope']


def test_the_h5_link_in_wechat_logs_in_silently_and_lands_back_on_the_group(stack):
    leader, share = formed_group(stack)
    ref = stack.call('GET', f'/api/groups/{share}/share', leader).json()['h5_url'].split('from=')[1]
    phone = browser()
    first = phone.get(f'{stack.api}/g/{share}?from={ref}', allow_redirects=False, timeout=10)
    assert scope_of(first) == 'snsapi_base'
    back = through_wechat(stack, phone, first, name('dora'))
    assert back.status_code == 302 and back.headers['Location'].endswith(f'/g/{share}?from={ref}')
    page = phone.get(back.headers['Location'], allow_redirects=False, timeout=10)
    assert page.status_code == 200 and 'text/html' in page.headers['Content-Type']
    assert '还差2人成团' in page.text and '我要参团' in page.text and '你好，微信用户' in page.text
    assert 'wx.config' in page.text and 'updateAppMessageShareData' in page.text
    assert f'{stack.api}/g/{share}?from=' in page.text  # forwarding from here names the visitor as sharer


def test_a_tampered_replayed_or_foreign_state_is_refused(stack):
    _, share = formed_group(stack)
    phone = browser()
    first = phone.get(f'{stack.api}/g/{share}', allow_redirects=False, timeout=10)
    authorize = first.headers['Location'].split('#')[0]
    callback = requests.get(authorize, params={'user': name('eli')}, allow_redirects=False,
                            timeout=5).headers['Location']
    code, state = (dict(parse_qsl(urlsplit(callback).query))[k] for k in ('code', 'state'))
    other_group = state.replace(share, 'A' * len(share))
    refused = phone.get(f'{stack.api}/g/oauth', params={'code': code, 'state': other_group}, timeout=10)
    assert refused.status_code == 400 and '已失效' in refused.text
    stranger = browser()  # someone who got hold of the callback URL
    assert stranger.get(callback, allow_redirects=False, timeout=10).status_code == 400
    assert phone.get(callback, allow_redirects=False, timeout=10).status_code == 302
    replay = phone.get(callback, allow_redirects=False, timeout=10)
    assert replay.status_code == 400 and 'already used' in replay.text
    evil = phone.get(f'{stack.api}/g/oauth', params={'code': code, 'state': 'https://evil.example/'}, timeout=10)
    assert evil.status_code == 400 and 'evil' not in evil.headers.get('Location', '')


def test_joining_asks_for_the_profile_once_and_the_mini_program_then_knows_the_same_person(stack):
    _, share = formed_group(stack)
    who, phone = name('fran'), browser()
    through_wechat(stack, phone, phone.get(f'{stack.api}/g/{share}', allow_redirects=False, timeout=10), who)
    join = phone.get(f'{stack.api}/g/{share}?join=1', allow_redirects=False, timeout=10)
    assert scope_of(join) == 'snsapi_userinfo'
    back = through_wechat(stack, phone, join, who)
    assert back.headers['Location'].endswith(f'/g/{share}?join=1&asked=1')
    page = phone.get(back.headers['Location'], allow_redirects=False, timeout=10)
    assert page.status_code == 200 and f'你好，{who}' in page.text and '长按识别小程序码' in page.text
    token = stack.login(who)  # the same test user opens the mini-program: one person, one account
    me = stack.call('GET', '/api/me', token).json()['user']
    assert me['nickname'] == who and me['avatar_url'].endswith(f'/sandbox/avatars/{who}.png')


def test_a_late_answer_from_the_page_does_not_undo_the_trip_to_wechat(stack):
    """A picture the group page asked for before 我要参团 was tapped (its mini-program code) can answer after the
    trip to WeChat began; it must not put back the cookie from before, which lacks that trip's nonce."""
    _, share = formed_group(stack)
    who, phone = name('gus'), browser()
    through_wechat(stack, phone, phone.get(f'{stack.api}/g/{share}', allow_redirects=False, timeout=10), who)
    before = phone.cookies.copy()  # what the page's picture request carried
    join = phone.get(f'{stack.api}/g/{share}?join=1', allow_redirects=False, timeout=10)
    late = requests.get(f'{stack.api}/g/{share}/code.png', cookies=before, headers={'User-Agent': WECHAT_UA},
                        timeout=30)
    assert late.status_code == 200
    phone.cookies.update(late.cookies)  # a browser keeps whatever cookie an answer sets, late or not
    back = through_wechat(stack, phone, join, who)
    assert back.status_code == 302 and back.headers['Location'].endswith(f'/g/{share}?join=1&asked=1'), back.text


def test_outside_wechat_the_page_shows_the_mini_program_code_to_scan(stack):
    _, share = formed_group(stack)
    page = requests.get(f'{stack.api}/g/{share}', timeout=10)
    assert page.status_code == 200 and '请用微信扫一扫小程序码' in page.text and 'wx.config' not in page.text
    code = requests.get(f'{stack.api}/g/{share}/code.png', timeout=10)
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(code.content)))] == [share]
    assert requests.get(f'{stack.api}/g/nosuchgroup1', timeout=10).status_code == 404
    assert requests.get(f'{stack.api}/g/bad%20code', timeout=10).status_code == 404


def test_the_share_card_says_seats_left_and_price_and_carries_the_sharer(stack):
    leader, share = formed_group(stack)
    card = stack.call('GET', f'/api/groups/{share}/share', leader).json()
    assert card['title'] == '还差2人 ¥99 拼《Python入门》'
    path, ref = card['path'].split('&from=')
    assert path == f'pages/group/index?code={share}' and ref
    anonymous = stack.call('GET', f'/api/groups/{share}/share', params={'from': ref}).json()
    assert anonymous['path'] == card['path']  # passed along by someone not signed in
    assert stack.call('GET', f'/api/groups/{share}/share', params={'from': 'forged1234567'}).json()['path'] == path
    picture = Image.open(io.BytesIO(requests.get(card['image_url'], timeout=10).content))
    assert picture.size == (520, 416)
    click = stack.call('POST', f'/api/groups/{share}/clicks', json={'from': ref, 'channel': 'card'})
    again = stack.call('POST', f'/api/groups/{share}/clicks', json={'from': ref, 'channel': 'card'})
    assert (click.status_code, again.json()) == (201, {'counted': False})
    assert stack.call('GET', '/api/groups/nosuchgroup1/share').status_code == 404


def test_a_new_user_from_a_shared_card_is_registered_as_referred(stack):
    leader, share = formed_group(stack)
    ref = stack.call('GET', f'/api/groups/{share}/share', leader).json()['path'].split('&from=')[1]
    login = stack.call('POST', '/api/auth/wxlogin', json={'code': name('gina'), 'from': ref})
    assert login.status_code == 200 and login.json()['created'] is True
    assert stack.call('POST', '/api/auth/wxlogin', json={'code': 'x', 'from': 5}).status_code == 400


def test_the_poster_is_a_phone_sized_png_whose_code_opens_the_group_and_is_redrawn_when_it_changes(stack):
    leader, share = formed_group(stack, size=2)
    first = stack.call('GET', f'/api/groups/{share}/poster.png', leader)
    assert first.status_code == 200 and first.headers['Content-Type'] == 'image/png'
    image = Image.open(io.BytesIO(first.content))
    assert (image.format, image.size) == ('PNG', (750, 1334))
    scene = [r.text for r in zxingcpp.read_barcodes(image.crop((60, 1000, 340, 1280)))]
    ref = stack.call('GET', f'/api/groups/{share}/share', leader).json()['path'].split('&from=')[1]
    assert scene == [f'{share}.{ref}']
    assert stack.call('GET', f'/api/groups/{share}/poster.png', leader).content == first.content  # cached
    member = stack.login(name('hank'))
    stack.confirm(stack.join(member, share).json())
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', what='group full')
    redrawn = stack.call('GET', f'/api/groups/{share}/poster.png', leader)
    assert redrawn.status_code == 200 and redrawn.content != first.content
    assert stack.call('GET', '/api/groups/nosuchgroup1/poster.png').status_code == 404


def test_a_phone_number_is_bound_from_wechats_code(stack):
    token = stack.login(name('ivan'))
    bound = stack.call('POST', '/api/auth/phone', token, json={'code': 'tap-phone'})
    assert bound.status_code == 200 and bound.json()['phone']['number'].startswith('138')
    refused = stack.call('POST', '/api/auth/phone', token, json={'code': 'bad-code'})
    assert refused.status_code == 400 and refused.json()['error']['code'] == 'invalid_input'
    assert stack.call('POST', '/api/auth/phone', json={'code': 'x'}).status_code == 401
    assert stack.call('POST', '/api/auth/phone', token, json={}).status_code == 400


def test_a_qr_code_for_a_finished_or_unknown_group_is_refused(stack):
    leader, share = formed_group(stack, size=2)
    stack.confirm(stack.join(stack.login(name('jo')), share).json())
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', what='group full')
    closed = stack.admin('POST', f'/groups/{share}/qrcode')
    assert closed.status_code == 409 and closed.json()['error']['code'] == 'group_closed'
    assert stack.admin('POST', '/groups/nosuchgroup1/qrcode').status_code == 404
    assert stack.call('POST', f'/admin/api/groups/{share}/qrcode').status_code == 401
