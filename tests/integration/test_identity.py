"""One person, one User: the mini-program, the H5 page and the bot meet through the unionid."""
import json

import pytest

from groupbuy import accounts, errors, groups, identity, referrals
from groupbuy.account_merge import merge_users
from groupbuy.audit import audit
from groupbuy.models import Enrollment, Event, Group, Order, Seat, User
from tests.support.builders import campaign, pay, user


def open_and_form(deps, c, leader):
    checkout = groups.open_group(deps, leader, c.id, '127.0.0.1')
    pay(deps, checkout.order)
    return Group.get_by_id(checkout.group.id)


def events(kind):
    return [(e.user_id, json.loads(e.props)) for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def test_an_h5_visitor_who_later_opens_the_mini_program_is_one_user_with_everything_kept(deps):
    """Silent H5 login gives no unionid; the mini-program does; userinfo on H5 then reveals the same
    unionid and the two rows become one — orders, seats and the course stay with the person."""
    visitor = identity.sign_in_official_account(deps, 'oa-amy').user  # snsapi_base: no unionid
    assert visitor.openid is None and visitor.oa_openid == 'oa-amy'
    identity.set_following(deps, 'oa-amy', True)
    c = campaign(group_size=2)
    leader = user()
    group = open_and_form(deps, c, leader)
    amy = identity.sign_in_miniapp(deps, 'mp-amy', 'union-amy').user
    assert amy.id != visitor.id  # nothing tied them together yet
    checkout = groups.join_group(deps, amy, group.share_code, '127.0.0.1')
    assert pay(deps, checkout.order) == 'group_succeeded'

    again = identity.sign_in_official_account(deps, 'oa-amy', 'union-amy')  # snsapi_userinfo
    merged = again.user
    assert not again.created and merged.id == amy.id
    assert User.select().where(User.unionid == 'union-amy').count() == 1
    assert User.get_or_none(User.id == visitor.id) is None
    assert (merged.openid, merged.oa_openid, merged.follows_oa) == ('mp-amy', 'oa-amy', True)
    assert accounts.oa_recipient(merged) == 'oa-amy'
    assert [o.status for o in Order.select().where(Order.user == merged.id)] == ['fulfilled']
    assert Seat.select().where(Seat.user == merged.id, Seat.status == 'paid').count() == 1
    assert Enrollment.select().where(Enrollment.user == merged.id, Enrollment.course == c.course_id).exists()
    assert identity.sign_in_miniapp(deps, 'mp-amy', 'union-amy').user.id == merged.id
    assert audit(deps.now(), grace_s=0) == []


def test_a_follower_known_by_unionid_is_claimed_by_their_first_mini_program_login(deps):
    follower = identity.sign_in_official_account(deps, 'oa-bo', 'union-bo', channel='oa_follow').user
    signed = identity.sign_in_miniapp(deps, 'mp-bo', 'union-bo')
    assert (signed.user.id, signed.created, signed.user.openid) == (follower.id, False, 'mp-bo')
    assert User.select().count() == 1


def test_merging_moves_every_order_seat_enrollment_and_live_reservation_of_the_dropped_account(deps, clock):
    """Two mini-program accounts of one person (say, an app migration): the newer one's history and
    its live seats — in the database and in the Redis seat ledger — move to the older one."""
    older, newer = user('p-old'), user('p-new')
    referred = identity.sign_in_official_account(deps, 'oa-friend', referrer_id=newer.id).user
    c_done, c_live, c_held = campaign(group_size=2), campaign(group_size=3), campaign(group_size=3)
    done = open_and_form(deps, c_done, user())
    pay(deps, groups.join_group(deps, newer, done.share_code, '127.0.0.1').order)
    live = open_and_form(deps, c_live, user())
    pay(deps, groups.join_group(deps, newer, live.share_code, '127.0.0.1').order)
    held = open_and_form(deps, c_held, user())
    reservation = groups.join_group(deps, newer, held.share_code, '127.0.0.1')  # not paid yet
    led = open_and_form(deps, campaign(group_size=2), newer)
    before = Order.select().where(Order.user == newer.id).count()

    kept = merge_users(deps, newer.id, older.id)

    assert kept.id == older.id and User.get_or_none(User.id == newer.id) is None
    assert Order.select().where(Order.user == older.id).count() == before
    assert Seat.select().where(Seat.user == older.id, Seat.status != 'released').count() == 4
    assert Enrollment.select().where(Enrollment.user == older.id).count() == 1
    assert Group.get_by_id(led.id).leader_id == older.id
    assert User.get_by_id(referred.id).referred_by_id == older.id
    ledger = deps.ledger.seats(held.id)
    assert ledger.get(older.id, '').startswith('r:') and newer.id not in ledger
    assert deps.ledger.seats(live.id).get(older.id) == 'p'
    assert pay(deps, reservation.order) == 'seated'  # the moved reservation still pays
    assert deps.ledger.seats(held.id)[older.id] == 'p'
    assert events('users_merged')[-1] == (older.id, {'merged_user': newer.id})
    assert audit(deps.now(), grace_s=0) == []


def test_two_accounts_holding_a_seat_in_one_group_stay_apart_and_unchanged(deps):
    a, b = user(), user()
    group = open_and_form(deps, campaign(group_size=3), user())
    for who in (a, b):
        pay(deps, groups.join_group(deps, who, group.share_code, '127.0.0.1').order)
    with pytest.raises(errors.AccountConflict):
        merge_users(deps, a.id, b.id)
    assert User.select().where(User.id.in_((a.id, b.id))).count() == 2
    assert {s.user_id for s in Seat.select().where(Seat.group == group.id, Seat.role == 'member')} == {a.id, b.id}
    # a sign-in that would link them logs the conflict and carries on
    User.update(unionid='same').where(User.id.in_((a.id, b.id))).execute()
    assert identity.link_unionid(deps, User.get_by_id(a.id), 'same').id == a.id


def test_the_first_door_through_a_share_records_who_brought_them_and_later_doors_do_not_change_it(deps):
    sharer, other = user(), user()
    ref = referrals.share_ref('k', sharer.id)
    referrer = referrals.existing_referrer('k', ref)
    newcomer = identity.sign_in_official_account(deps, 'oa-cy', referrer_id=referrer).user
    assert newcomer.referred_by_id == sharer.id
    assert events('user_registered')[-1] == (newcomer.id, {'referred_by': sharer.id, 'channel': 'h5'})
    again = identity.sign_in_official_account(deps, 'oa-cy', referrer_id=other.id)
    assert not again.created and User.get_by_id(newcomer.id).referred_by_id == sharer.id
    assert referrals.existing_referrer('k', ref, newcomer_id=sharer.id) is None  # nobody refers themselves
    assert referrals.existing_referrer('other-key', ref) is None


def test_unfollowing_stops_template_messages_and_refollowing_restores_them(deps):
    assert identity.set_following(deps, 'oa-dee', False) is None  # never met: nothing to record
    follower = identity.set_following(deps, 'oa-dee', True)
    assert accounts.oa_recipient(User.get_by_id(follower.id)) == 'oa-dee'
    identity.set_following(deps, 'oa-dee', False)
    assert accounts.oa_recipient(User.get_by_id(follower.id)) is None
    identity.set_following(deps, 'oa-dee', True)
    identity.set_following(deps, 'oa-dee', True)  # WeChat retried the follow: one event
    assert [k for k in Event.select(Event.kind).where(Event.user == follower.id, Event.kind.startswith('oa_'))
            .order_by(Event.id).tuples()] == [('oa_followed',), ('oa_unfollowed',), ('oa_followed',)]
    assert accounts.oa_recipient(User.get_by_id(follower.id)) == 'oa-dee'


def test_a_phone_number_must_be_digits(deps):
    someone = user()
    accounts.save_phone(someone, '13800138000', '86')
    assert User.get_by_id(someone.id).phone == '13800138000'
    with pytest.raises(errors.InvalidInput):
        accounts.save_phone(someone, '+86 138', '86')
