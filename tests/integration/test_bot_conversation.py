"""What the bot answers, on the real database and Redis (WeChat's protocol is tested end to end in
tests/e2e/test_official_account_bot.py)."""
import json
import types

import pytest
from wechatpy import parse_message

from bot import conversation, texts
from gateways.wechat import BaseUrlWeChatClient
from groupbuy import accounts, groups, identity
from groupbuy.models import Event, Group, User
from tests.support.builders import campaign, pay, user
from tests.support.sandbox_server import running_sandbox
from wechat_sandbox.credentials import DEFAULT_OA_APP_ID, DEFAULT_OA_APP_SECRET


@pytest.fixture(scope='module')
def sandbox():
    """WeChat's user/info (a follower's unionid), for followers the bot has not tied yet."""
    with running_sandbox() as (app, base):
        yield app, base + '/'


def runtime(deps, wechat_url='http://127.0.0.1:9/'):
    """The bot's runtime; its official-account client reaches WeChat at `wechat_url` (by default
    nowhere: a test that needs WeChat passes the sandbox)."""
    settings = types.SimpleNamespace(secret_key='k', public_base_url='https://pinke.example',
                                     miniapp_group_page='pages/group/index')
    oa_client = BaseUrlWeChatClient(DEFAULT_OA_APP_ID, DEFAULT_OA_APP_SECRET, base_url=wechat_url, timeout=5)
    return types.SimpleNamespace(deps=deps, settings=settings, redis=deps.redis, oa_client=oa_client)


def push(openid, **fields):
    body = ''.join(f'<{k}><![CDATA[{v}]]></{k}>' for k, v in fields.items())
    return parse_message(f'<xml><ToUserName>gh_oa</ToUserName><FromUserName>{openid}</FromUserName>'
                         f'<CreateTime>1700000000</CreateTime>{body}</xml>')


def formed_group(deps, member=None, size=3):
    checkout = groups.open_group(deps, user(), campaign(group_size=size).id, '127.0.0.1')
    pay(deps, checkout.order)
    if member is not None:
        pay(deps, groups.join_group(deps, member, checkout.group.share_code, '127.0.0.1').order)
    return Group.get_by_id(checkout.group.id)


def test_my_groups_lists_each_live_group_with_seats_and_time_left_and_a_link(deps, clock):
    member = identity.sign_in_miniapp(deps, 'mp-eve', 'union-eve').user
    live = formed_group(deps, member)
    identity.sign_in_official_account(deps, 'oa-eve', 'union-eve', channel='oa_follow')
    reply = conversation.answer(runtime(deps), push('oa-eve', MsgType='text', Content=' 我的拼团 ', MsgId='1'), 'd1')
    assert '《Python 入门》还差1人成团，剩 1小时\n' in reply
    assert f'<a href="https://pinke.example/g/{live.share_code}?from=' in reply
    clicked = conversation.answer(runtime(deps), push('oa-eve', MsgType='event', Event='CLICK',
                                                      EventKey='MY_GROUPS'), 'd2')
    assert clicked == reply


def test_someone_without_live_groups_hears_how_to_start_and_anything_else_gets_help(deps):
    rt = runtime(deps)
    identity.sign_in_official_account(deps, 'oa-fay', 'union-fay', channel='oa_follow')
    assert conversation.answer(rt, push('oa-fay', MsgType='text', Content='拼团', MsgId='2'), 'd') == texts.NO_GROUPS
    assert conversation.answer(rt, push('oa-fay', MsgType='text', Content='你好', MsgId='3'), 'd') == texts.HELP
    assert conversation.answer(rt, push('oa-fay', MsgType='image', PicUrl='x', MediaId='m', MsgId='4'), 'd') \
        == texts.HELP


def test_scanning_a_groups_qr_code_answers_progress_counts_the_click_and_queues_the_card(deps):
    group = formed_group(deps)
    reply = conversation.answer(runtime(deps), push('oa-gus', MsgType='event', Event='subscribe',
                                                    EventKey=f'qrscene_{group.share_code}', Ticket='t'), 'scan-1')
    assert reply.startswith(texts.WELCOME) and '还差2人成团' in reply
    follower = User.get(User.oa_openid == 'oa-gus')
    assert accounts.oa_recipient(follower) == 'oa-gus'
    assert ('send_group_card', ('oa-gus', group.share_code, '', 'scan-1')) in deps.jobs.pending
    assert ('link_follower', ('oa-gus',)) in deps.jobs.pending
    click = Event.get(Event.kind == 'share_clicked')
    assert (click.user_id, click.group_id, json.loads(click.props)['channel']) == (follower.id, group.id, 'oa_qr')


def test_a_scan_of_a_group_that_is_gone_says_so(deps):
    assert conversation.answer(runtime(deps), push('oa-hal', MsgType='event', Event='SCAN', EventKey='nope'),
                               'd') == texts.GROUP_GONE


def test_unfollowing_marks_the_user_not_following_and_says_nothing(deps):
    rt = runtime(deps)
    conversation.answer(rt, push('oa-ivy', MsgType='event', Event='subscribe'), 'd1')
    assert conversation.answer(rt, push('oa-ivy', MsgType='event', Event='unsubscribe'), 'd2') is None
    assert accounts.oa_recipient(User.get(User.oa_openid == 'oa-ivy')) is None


def follower(sandbox, name):
    """A test user who follows the account at WeChat (the sandbox) but never sent us a follow push."""
    state = sandbox[0].extensions['wechat_sandbox'].oa
    oa_openid, unionid = state.user(DEFAULT_OA_APP_ID, name)
    state.set_following(oa_openid, True)
    return oa_openid, unionid


def test_an_unlinked_followers_my_groups_asks_wechat_and_lists_their_mini_program_groups(deps, sandbox):
    oa_openid, unionid = follower(sandbox, 'ned')
    member = identity.sign_in_miniapp(deps, 'mp-ned', unionid).user
    live = formed_group(deps, member)
    identity.set_following(deps, oa_openid, True)  # a follower from before Pinke went live: no unionid
    rt = runtime(deps, sandbox[1])
    reply = conversation.answer(rt, push(oa_openid, MsgType='text', Content='我的拼团', MsgId='11'), 'd1')
    assert live.share_code in reply
    assert User.get(User.oa_openid == oa_openid).id == member.id  # one person now
    assert 'link_follower' not in [name for name, _ in deps.jobs.pending]


def test_an_unlinked_followers_my_groups_says_it_is_looking_while_wechat_cannot_answer(deps):
    identity.set_following(deps, 'oa-ora', True)
    rt = runtime(deps)  # WeChat unreachable
    ask = push('oa-ora', MsgType='event', Event='CLICK', EventKey='MY_GROUPS')
    assert conversation.answer(rt, ask, 'd1') == texts.LOOKING_UP
    assert deps.jobs.pending == [('link_follower', ('oa-ora',))]


def test_any_push_from_an_unlinked_follower_queues_the_link_but_not_on_every_message(deps):
    rt = runtime(deps)
    assert conversation.answer(rt, push('oa-pam', MsgType='text', Content='你好', MsgId='21'), 'd1') == texts.HELP
    conversation.answer(rt, push('oa-pam', MsgType='text', Content='在吗', MsgId='22'), 'd2')
    assert deps.jobs.pending == [('link_follower', ('oa-pam',))]
    identity.sign_in_official_account(deps, 'oa-quin', 'union-quin', channel='oa_follow')
    conversation.answer(rt, push('oa-quin', MsgType='text', Content='你好', MsgId='23'), 'd3')
    assert deps.jobs.pending == [('link_follower', ('oa-pam',))]  # already tied: nothing to ask
