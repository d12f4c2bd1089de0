"""The sandbox's official-account and mini-program-code APIs, driven by wechatpy as the app drives
them (through gateways/wechat_oa.py and gateways/wechat_wxa.py)."""
import io
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import zxingcpp
from PIL import Image

from config.settings import Settings
from gateways.wechat import BaseUrlWeChatClient
from gateways.wechat_oa import (OAuthFailed, authorize_url, create_scene_qrcode, exchange_code, follower_unionid,
                              jssdk_config, make_oa_client)
from gateways.wechat_wxa import phone_number, wxa_code_png
from groupbuy import errors
from tests.support.sandbox_server import running_sandbox
from wechat_sandbox.credentials import DEFAULT_APP_ID, DEFAULT_APP_SECRET
from wechat_sandbox.login import unionid_for


@pytest.fixture(scope='module')
def sandbox():
    with running_sandbox() as (app, base):
        yield app, base + '/'


@pytest.fixture
def settings(sandbox, tmp_path, key_prefix):
    s = Settings.from_env({'data_dir': str(tmp_path), 'secret_key': 'k', 'admin_token': 'a',
                           'wechat_api_base_url': sandbox[1], 'key_prefix': key_prefix})
    s.wechat_open_base_url, s.wechat_mp_base_url = sandbox[1] + 'connect/', sandbox[1]
    return s


@pytest.fixture
def oa(settings, redis_client):
    return make_oa_client(settings, redis_client)


@pytest.fixture
def miniapp(sandbox):
    return BaseUrlWeChatClient(DEFAULT_APP_ID, DEFAULT_APP_SECRET, base_url=sandbox[1])


def choose(settings, scope, user, state='s1'):
    """Open the authorize URL as WeChat's browser would, as test user `user`; the code it returns."""
    url = authorize_url(settings, 'http://127.0.0.1/g/oauth', scope, state).split('#')[0]
    answer = requests.get(url, params={'user': user}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = dict(parse_qsl(urlsplit(answer.headers['Location']).query))
    assert query['state'] == state
    return query['code']


def test_silent_oauth_names_the_visitor_without_unionid_and_a_code_works_once(settings):
    code = choose(settings, 'snsapi_base', 'alice')
    who = exchange_code(settings, code)
    assert who.scope == 'snsapi_base' and who.unionid is None and who.nickname is None
    with pytest.raises(OAuthFailed):
        exchange_code(settings, code)


def test_userinfo_oauth_gives_the_profile_and_the_unionid_the_mini_program_shares(settings):
    who = exchange_code(settings, choose(settings, 'snsapi_userinfo', 'alice'))
    assert who.unionid == unionid_for('alice') and who.nickname == 'alice'
    avatar = Image.open(io.BytesIO(requests.get(who.avatar_url, timeout=5).content))
    assert avatar.format == 'PNG'


def test_declining_userinfo_returns_without_a_code(settings):
    url = authorize_url(settings, 'http://127.0.0.1/g/oauth', 'snsapi_userinfo', 'st').split('#')[0]
    answer = requests.get(url, params={'user': 'bob', 'deny': '1'}, allow_redirects=False, timeout=5)
    assert answer.headers['Location'] == 'http://127.0.0.1/g/oauth?state=st'


def test_the_jsapi_ticket_is_fetched_once_and_shared_through_redis(settings, oa, sandbox, redis_client):
    state = sandbox[0].extensions['wechat_sandbox'].oa
    before = state.ticket_calls
    first = jssdk_config(oa, 'http://127.0.0.1/g/abc?from=x#frag')
    other_process = make_oa_client(settings, redis_client)
    second = jssdk_config(other_process, 'http://127.0.0.1/g/abc')
    assert state.ticket_calls == before + 1
    assert first['appId'] == settings.wechat_oa_app_id and len(first['signature']) == 40
    assert first['signature'] != second['signature']  # another URL, another signature


def test_a_mini_program_code_is_a_png_that_scans_back_to_its_scene(miniapp):
    png = wxa_code_png(miniapp, 'AbCdEf-_1234.1x2deadbeef', 'pages/group/index')
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == ['AbCdEf-_1234.1x2deadbeef']
    with pytest.raises(errors.WeChatUnavailable):
        wxa_code_png(miniapp, 'x' * 33, 'pages/group/index')
    with pytest.raises(errors.WeChatUnavailable):
        wxa_code_png(miniapp, 'abc', '/pages/group/index')


def test_a_scene_qr_code_has_a_ticket_and_a_picture_of_its_url(settings, oa):
    qr = create_scene_qrcode(settings, oa, 'AbCdEf-_1234', 3600)
    assert qr['expire_seconds'] == 3600 and qr['show_url'].startswith(settings.wechat_mp_base_url)
    picture = Image.open(io.BytesIO(requests.get(qr['show_url'], timeout=5).content))
    assert [r.text for r in zxingcpp.read_barcodes(picture)] == [qr['url']]


def test_a_phone_code_gives_a_number_and_a_bad_one_is_invalid_input(miniapp):
    phone = phone_number(miniapp, DEFAULT_APP_ID, 'tap-1')
    assert phone['pure_phone'].startswith('138') and len(phone['pure_phone']) == 11
    assert phone['country_code'] == '86'
    with pytest.raises(errors.InvalidInput):
        phone_number(miniapp, DEFAULT_APP_ID, 'bad-code')
    with pytest.raises(errors.InvalidInput):
        phone_number(miniapp, 'wx-another-app', 'tap-1')


def test_a_followers_unionid_comes_from_user_info(settings, oa, sandbox):
    openid, unionid = sandbox[0].extensions['wechat_sandbox'].oa.user(settings.wechat_oa_app_id, 'carol')
    sandbox[0].extensions['wechat_sandbox'].oa.set_following(openid, True)
    assert follower_unionid(oa, openid) == unionid
    with pytest.raises(errors.WeChatUnavailable):
        follower_unionid(oa, 'o-nobody')


@pytest.fixture
def unbound(sandbox, settings):
    """The official account not bound to an open platform (this test only: reset restores the setting)."""
    base = sandbox[1]
    answer = requests.post(base + 'sandbox/open-platform', json={'appid': settings.wechat_oa_app_id, 'bound': False},
                           timeout=5)
    assert answer.status_code == 200
    yield
    requests.post(base + 'sandbox/open-platform', json={'appid': settings.wechat_oa_app_id, 'bound': True}, timeout=5)


def test_an_unbound_account_gives_no_unionid_in_oauth_or_profiles(settings, oa, sandbox, unbound):
    who = exchange_code(settings, choose(settings, 'snsapi_userinfo', 'dora'))
    assert who.unionid is None and who.nickname == 'dora' and who.openid
    sandbox[0].extensions['wechat_sandbox'].oa.set_following(who.openid, True)
    assert follower_unionid(oa, who.openid) is None
