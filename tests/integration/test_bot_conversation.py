"""What the bot answers, on the real database and Redis (WeChat's protocol is tested end to end in
tests/e2e/test_official_account_bot.py)."""
import json
import types

from wechatpy import parse_message

from bot import conversation, texts
from groupbuy import accounts, groups, identity
from groupbuy.models import Event, Group, User
from tests.support.builders import campaign, pay, user


def runtime(deps):
    settings = types.SimpleNamespace(secret_key='k', public_base_url='https://pinke.example',
                                     miniapp_group_page='pages/group/index')
    return types.SimpleNamespace(deps=deps, settings=settings, redis=deps.redis)


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
    assert '《Python 入门》还差1人成团，剩 1小时0分' in reply
    assert f'<a href="https://pinke.example/g/{live.share_code}?from=' in reply
    clicked = conversation.answer(runtime(deps), push('oa-eve', MsgType='event', Event='CLICK',
                                                      EventKey='MY_GROUPS'), 'd2')
    assert clicked == reply


def test_someone_without_live_groups_hears_how_to_start_and_anything_else_gets_help(deps):
    rt = runtime(deps)
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
