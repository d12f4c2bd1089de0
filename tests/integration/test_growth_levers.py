"""Growth levers on the real database and Redis: tiered groups, a free leader, cross-course groups, referral
rewards and coupons — each ending in the right money, and `audit` clean."""
import json

import pytest

from groupbuy import catalog, errors, groups, refunds, rewards, settlement
from groupbuy.audit import audit
from groupbuy.models import Enrollment, Group, Order, Refund, Reward, RewardEntry, Seat, User
from groupbuy.refunds import RefundNotice, record_refund_notice
from tests.support.builders import campaign, pay, user

IP = '127.0.0.1'
TIERS = [{'size': 3, 'price_fen': 9900}, {'size': 5, 'price_fen': 7900}]


def member():
    """An account a few years old: a group of brand-new accounts goes to risk review (groupbuy/risk)."""
    u = user()
    User.update(created_at=u.created_at.replace(year=2020)).where(User.id == u.id).execute()
    return User.get_by_id(u.id)


def confirm_refunds(deps):
    deps.jobs.run()
    for refund in Refund.select().where(Refund.status == 'submitted'):
        record_refund_notice(deps, RefundNotice(refund.out_refund_no, 'SUCCESS', 'rf', refund.amount_fen))


def formed(deps, c, leader, **kw):
    checkout = groups.open_group(deps, leader, c.id, IP, **kw)
    if checkout.pay_params is not None:
        assert pay(deps, checkout.order) == 'group_formed'
    return Group.get_by_id(checkout.group.id)


def join_and_pay(deps, group, member, **kw):
    checkout = groups.join_group(deps, member, group.share_code, IP, **kw)
    return checkout, pay(deps, checkout.order)


# --- 阶梯团 ---

def test_a_full_tiered_group_refunds_each_payer_the_difference_once(deps):
    c = campaign(tiers=TIERS, group_size=None, group_price_fen=None)
    assert (c.group_size, c.group_price_fen) == (5, 9900)
    group = formed(deps, c, user())
    outcomes = [join_and_pay(deps, group, member())[1] for _ in range(4)]
    assert outcomes == ['seated', 'seated', 'seated', 'group_succeeded']  # success certain at 3, ends at 5
    tier_refunds = list(Refund.select().where(Refund.reason == 'tier_difference'))
    assert [r.amount_fen for r in tier_refunds] == [2000] * 5
    assert all(r.out_refund_no.startswith('RT') for r in tier_refunds)
    confirm_refunds(deps)
    confirm_refunds(deps)  # again: nothing more goes out
    assert sorted(r['refund_fen'] for r in deps.gateway.refunds) == [2000] * 5
    assert {o.status for o in Order.select()} == {'fulfilled'}  # the course stays bought
    assert Enrollment.select().count() == 5
    assert audit(deps.now(), grace_s=0) == []


def test_a_tiered_group_past_its_smallest_tier_succeeds_at_the_deadline_at_that_tier(deps, clock):
    c = campaign(tiers=[{'size': 2, 'price_fen': 9900}, {'size': 3, 'price_fen': 8900},
                        {'size': 5, 'price_fen': 7900}], group_size=None, group_price_fen=None, duration_s=60)
    group = formed(deps, c, user())
    for _ in range(3):
        join_and_pay(deps, group, member())
    clock.advance(61)
    assert settlement.settle_group(deps, group.id) == 'succeeded'
    confirm_refunds(deps)
    assert sorted(r['refund_fen'] for r in deps.gateway.refunds) == [1000] * 4  # 4 paid: the 3-tier, ¥89
    assert audit(deps.now(), grace_s=0) == []


def test_a_tiered_group_short_of_its_smallest_tier_fails_whole(deps, clock):
    c = campaign(tiers=TIERS, group_size=None, group_price_fen=None, duration_s=60)
    group = formed(deps, c, user())
    join_and_pay(deps, group, member())
    clock.advance(61)
    assert settlement.settle_group(deps, group.id) == 'failed'
    confirm_refunds(deps)
    assert sorted(r['refund_fen'] for r in deps.gateway.refunds) == [9900, 9900]
    assert audit(deps.now(), grace_s=0) == []


@pytest.mark.parametrize('tiers, message', [
    ([{'size': 3, 'price_fen': 9900}], '2 to 5 tiers'),
    ([{'size': 3, 'price_fen': 9900}, {'size': 3, 'price_fen': 7900}], 'tiers.1.size'),
    ([{'size': 3, 'price_fen': 9900}, {'size': 5, 'price_fen': 9900}], 'tiers.1.price_fen'),
    ([{'size': 3, 'price_fen': 29900}, {'size': 5, 'price_fen': 7900}], 'course price'),
])
def test_tiers_that_make_no_sense_are_refused(deps, tiers, message):
    with pytest.raises(errors.InvalidInput, match=message):
        campaign(tiers=tiers, group_size=None, group_price_fen=None)


def test_a_refund_after_a_tier_difference_returns_only_what_is_left(deps):
    c = campaign(tiers=TIERS, group_size=None, group_price_fen=None)
    group = formed(deps, c, user())
    for _ in range(4):
        join_and_pay(deps, group, member())
    confirm_refunds(deps)
    order = Order.select().where(Order.group == group.id).order_by(Order.id.desc()).first()
    refund = refunds.refund_after_sale(deps, order.id)
    assert refund.amount_fen == 9900 - 2000
    confirm_refunds(deps)
    assert Order.get_by_id(order.id).status == 'refunded'
    assert not Enrollment.select().where(Enrollment.order == order.id).exists()
    assert audit(deps.now(), grace_s=0) == []


# --- 团长免单 ---

def test_a_free_leader_opens_without_payment_and_the_group_needs_its_paying_members(deps):
    c = campaign(leader_price_fen=0)
    leader = user()
    checkout = groups.open_group(deps, leader, c.id, IP)
    assert checkout.pay_params is None and checkout.order.amount_fen == 0
    assert deps.gateway.prepays == []  # WeChat is never asked for a zero amount
    group = Group.get_by_id(checkout.group.id)
    assert group.status == 'forming' and group.deadline_at is not None
    assert join_and_pay(deps, group, member())[1] == 'seated'
    assert join_and_pay(deps, group, member())[1] == 'group_succeeded'
    assert [p['amount_fen'] for p in deps.gateway.prepays] == [9900, 9900]
    assert Enrollment.select().where(Enrollment.user == leader.id).exists()
    assert Order.get_by_id(checkout.order.id).status == 'fulfilled'
    assert audit(deps.now(), grace_s=0) == []


def test_a_free_leaders_failed_group_refunds_the_payers_and_nothing_for_the_free_seat(deps, clock):
    c = campaign(leader_price_fen=0, duration_s=60)
    checkout = groups.open_group(deps, user(), c.id, IP)
    group = Group.get_by_id(checkout.group.id)
    join_and_pay(deps, group, member())
    clock.advance(61)
    assert settlement.settle_group(deps, group.id) == 'failed'
    confirm_refunds(deps)
    assert [r['refund_fen'] for r in deps.gateway.refunds] == [9900]
    assert Order.get_by_id(checkout.order.id).status == 'closed'
    assert not Refund.select().where(Refund.order == checkout.order.id).exists()
    assert audit(deps.now(), grace_s=0) == []


def test_a_free_leader_whose_members_are_all_fresh_accounts_goes_to_review(deps, clock):
    c = campaign(leader_price_fen=0)
    group = formed(deps, c, user())
    leader = User.get_by_id(group.leader_id)
    User.update(created_at=clock.now().replace(year=2020)).where(User.id == leader.id).execute()
    join_and_pay(deps, group, user())
    _, last = join_and_pay(deps, group, user())
    assert last == 'group_in_review'
    assert Group.get_by_id(group.id).status == 'reviewing'
    assert audit(deps.now(), grace_s=0) == []


def test_a_free_leader_with_established_members_succeeds(deps, clock):
    c = campaign(leader_price_fen=0)
    members = [user(), user()]
    User.update(created_at=clock.now().replace(year=2020)).where(User.id.in_([m.id for m in members])).execute()
    group = formed(deps, c, user())
    assert join_and_pay(deps, group, User.get_by_id(members[0].id))[1] == 'seated'
    assert join_and_pay(deps, group, User.get_by_id(members[1].id))[1] == 'group_succeeded'


# --- 跨课程拼团 ---

def cross_course_campaign():
    main = catalog.create_course('Python 入门', 19900)
    others = [catalog.create_course('Go 入门', 18900), catalog.create_course('Rust 入门', 20900)]
    return catalog.create_campaign(course_id=main.id, group_size=3, duration_s=3600, group_price_fen=9900,
                                   extra_course_ids=[o.id for o in others], band_low_fen=15000,
                                   band_high_fen=25000), main, others


def test_a_cross_course_group_enrolls_each_member_in_the_course_they_picked(deps):
    c, main, (go, rust) = cross_course_campaign()
    leader, a, b = user(), user(), user()
    group = formed(deps, c, leader, course_id=rust.id)
    join_and_pay(deps, group, a)
    assert join_and_pay(deps, group, b, course_id=go.id)[1] == 'group_succeeded'
    enrolled = {(e.user_id, e.course_id) for e in Enrollment.select()}
    assert enrolled == {(leader.id, rust.id), (a.id, main.id), (b.id, go.id)}
    assert audit(deps.now(), grace_s=0) == []


def test_a_cross_course_pick_outside_the_campaign_or_band_is_refused(deps):
    c, main, _ = cross_course_campaign()
    stranger = catalog.create_course('Java', 19900)
    with pytest.raises(errors.InvalidInput, match='not one of'):
        groups.open_group(deps, user(), c.id, IP, course_id=stranger.id)
    pricey = catalog.create_course('Big data', 99900)
    with pytest.raises(errors.InvalidInput, match='outside the band'):
        catalog.create_campaign(course_id=main.id, group_size=3, duration_s=60, group_price_fen=9900,
                                extra_course_ids=[pricey.id], band_low_fen=15000, band_high_fen=25000)


def test_owning_one_course_of_a_cross_course_campaign_does_not_stop_buying_another(deps):
    c, main, (go, _) = cross_course_campaign()
    owner = user()
    Enrollment.create(user=owner, course=main)
    group = formed(deps, c, user())
    with pytest.raises(errors.AlreadyEnrolled):
        groups.join_group(deps, owner, group.share_code, IP)
    assert join_and_pay(deps, group, owner, course_id=go.id)[1] == 'seated'


# --- 老带新 ---

COUPON = {'kind': 'coupon', 'amount_fen': 1000, 'min_spend_fen': 5000, 'valid_days': 30}


def referred(referrer):
    newcomer = user()
    User.update(referred_by=referrer.id).where(User.id == newcomer.id).execute()
    return User.get_by_id(newcomer.id)


def test_a_referrer_earns_a_coupon_when_their_newcomers_group_succeeds_and_loses_it_on_refund(deps):
    c = campaign(reward=COUPON)
    referrer = user()
    group = formed(deps, c, referrer)
    newcomer = referred(referrer)
    checkout, _ = join_and_pay(deps, group, newcomer)
    assert Reward.select().count() == 0  # nothing before success
    join_and_pay(deps, group, member())
    coupon = Reward.get()
    assert (coupon.user_id, coupon.kind, coupon.amount_fen, coupon.status) == (referrer.id, 'coupon', 1000, 'available')
    assert coupon.earned_by_id == checkout.order.id
    refunds.refund_after_sale(deps, checkout.order.id)
    assert Reward.get_by_id(coupon.id).status == 'revoked'
    assert [e.action for e in RewardEntry.select().order_by(RewardEntry.id)] == ['grant', 'revoke']
    confirm_refunds(deps)
    assert audit(deps.now(), grace_s=0) == []


def test_a_group_in_review_earns_nothing_until_approved(deps):
    from groupbuy.risk import review
    c = campaign(reward={'kind': 'points', 'points': 50})
    catalog.set_risk_rules(c.id, json.dumps({'fresh_fill_members': 2}))
    referrer = user()
    group = formed(deps, c, referrer)
    join_and_pay(deps, group, referred(referrer))
    assert join_and_pay(deps, group, referred(referrer))[1] == 'group_in_review'
    assert Reward.select().count() == 0
    review.decide(deps, group.id, approve=True)
    assert rewards.summary_of(referrer.id, deps.now()).points == 100


def test_a_coupon_is_spent_once_returned_when_unpaid_and_when_refunded(deps, clock):
    referrer = user()
    coupon = Reward.create(user=referrer, kind='coupon', amount_fen=1000, min_spend_fen=5000,
                           expires_at=clock.now().replace(year=2099), earned_by=_an_order(deps), newcomer=user(),
                           campaign=campaign())
    first, second = campaign(), campaign()
    g1, g2 = formed(deps, first, user()), formed(deps, second, user())
    checkout = groups.join_group(deps, referrer, g1.share_code, IP, coupon_id=coupon.id)
    assert checkout.order.amount_fen == 8900 and checkout.order.discount_fen == 1000
    assert deps.gateway.prepays[-1]['amount_fen'] == 8900  # the server's price, less the coupon
    with pytest.raises(errors.CouponUnavailable):
        groups.join_group(deps, referrer, g2.share_code, IP, coupon_id=coupon.id)
    clock.advance(deps.pay_window_s + 1)
    assert settlement.release_seat(deps, Seat.get(Seat.order == checkout.order.id).id)
    assert Reward.get_by_id(coupon.id).status == 'available'  # the unpaid order let it go
    again = groups.join_group(deps, referrer, g2.share_code, IP, coupon_id=coupon.id)
    assert pay(deps, again.order) == 'seated'
    assert Reward.get_by_id(coupon.id).status == 'used'
    clock.advance(3601)
    settlement.settle_group(deps, g2.id)  # short: refunded, the coupon comes back
    assert Reward.get_by_id(coupon.id).status == 'available'
    for other in Group.select().where(Group.status == 'forming'):
        settlement.settle_group(deps, other.id)
    confirm_refunds(deps)
    assert [e.action for e in RewardEntry.select().order_by(RewardEntry.id)] == ['hold', 'release', 'hold', 'use',
                                                                               'return']
    assert audit(deps.now(), grace_s=0) == []


def test_a_coupon_below_its_minimum_or_someone_elses_is_refused(deps, clock):
    owner = user()
    coupon = Reward.create(user=owner, kind='coupon', amount_fen=1000, min_spend_fen=50000, earned_by=_an_order(deps),
                           newcomer=user(), campaign=campaign())
    group = formed(deps, campaign(), user())
    with pytest.raises(errors.CouponUnavailable, match='applies from'):
        groups.join_group(deps, owner, group.share_code, IP, coupon_id=coupon.id)
    with pytest.raises(errors.CouponUnavailable, match='no such coupon'):
        groups.join_group(deps, user(), group.share_code, IP, coupon_id=coupon.id)
    assert Seat.select().where(Seat.group == group.id).count() == 1  # nothing was taken


def test_reward_terms_are_checked(deps):
    with pytest.raises(errors.InvalidInput, match='min_spend_fen must be more'):
        campaign(reward={'kind': 'coupon', 'amount_fen': 5000, 'min_spend_fen': 5000, 'valid_days': 3})
    with pytest.raises(errors.InvalidInput, match='unknown reward settings'):
        campaign(reward={'kind': 'points', 'points': 5, 'bonus': 1})


def _an_order(deps):
    group = formed(deps, campaign(), user())
    return Order.get(Order.group == group.id)


def test_an_after_sale_refund_takes_only_a_fulfilled_order_free_or_paid(deps):
    c = campaign(leader_price_fen=0)
    checkout = groups.open_group(deps, user(), c.id, IP)
    with pytest.raises(errors.InvalidTransition, match='is paid'):
        refunds.refund_after_sale(deps, checkout.order.id)  # the free seat of a group still forming
    assert Order.get_by_id(checkout.order.id).status == 'paid'


def test_the_console_counts_a_campaigns_rewards_and_tier_refunds(deps):
    c = campaign(tiers=TIERS, group_size=None, group_price_fen=None, reward={'kind': 'points', 'points': 5})
    referrer = member()
    group = formed(deps, c, referrer)
    for _ in range(2):
        join_and_pay(deps, group, referred(referrer))
    for _ in range(2):
        join_and_pay(deps, group, member())
    confirm_refunds(deps)
    assert rewards.campaign_counts(c.id) == {'granted': 2, 'available': 2, 'held': 0, 'used': 0, 'revoked': 0}
    assert refunds.tier_differences_of(c.id) == {'count': 5, 'returned_fen': 5 * 2000, 'by_status': {'succeeded': 5}}


def test_two_accounts_of_one_newcomer_merged_keep_one_reward_and_the_other_is_taken_back(deps):
    from groupbuy.account_merge import merge_users
    c = campaign(reward={'kind': 'points', 'points': 30})
    referrer = member()
    newcomer_a, newcomer_b = referred(referrer), referred(referrer)
    group = formed(deps, c, referrer)
    join_and_pay(deps, group, newcomer_a)
    second = formed(deps, campaign(reward={'kind': 'points', 'points': 30}), member())
    join_and_pay(deps, group, member())
    join_and_pay(deps, second, newcomer_b)
    join_and_pay(deps, second, member())
    assert rewards.summary_of(referrer.id, deps.now()).points == 60
    kept = merge_users(deps, newcomer_a.id, newcomer_b.id)
    assert rewards.summary_of(referrer.id, deps.now()).points == 30  # one person, one reward
    assert Reward.select().where(Reward.newcomer == kept.id).count() == 1
    assert [r.status for r in Reward.select().order_by(Reward.id)].count('revoked') == 1
    assert audit(deps.now(), grace_s=0) == []


# --- found by an attacker's review, kept fixed ---

def _coupon(deps, owner, clock, amount_fen=3000, min_spend_fen=5000):
    return Reward.create(user=owner, kind='coupon', amount_fen=amount_fen, min_spend_fen=min_spend_fen,
                         expires_at=clock.now().replace(year=2099), earned_by=_an_order(deps), newcomer=user(),
                         campaign=campaign())


def test_a_coupon_deeper_than_the_last_tier_still_leaves_a_fen_so_no_refund_is_ever_zero(deps, clock):
    c = campaign(tiers=[{'size': 2, 'price_fen': 9900}, {'size': 3, 'price_fen': 500}], group_size=None,
                 group_price_fen=None)
    buyer = member()
    group = formed(deps, c, member())
    checkout, _ = join_and_pay(deps, group, buyer, coupon_id=_coupon(deps, buyer, clock).id)
    assert checkout.order.amount_fen == 6900
    assert join_and_pay(deps, group, member())[1] == 'group_succeeded'
    confirm_refunds(deps)
    assert Refund.get(Refund.order == checkout.order.id, Refund.reason == 'tier_difference').amount_fen == 6899
    assert refunds.refund_after_sale(deps, checkout.order.id).amount_fen == 1
    confirm_refunds(deps)
    assert audit(deps.now(), grace_s=0) == []


def test_a_double_buyer_refunded_whole_does_not_lower_the_others_tier(deps):
    c = campaign(tiers=[{'size': 2, 'price_fen': 9900}, {'size': 3, 'price_fen': 7900}], group_size=None,
                 group_price_fen=None)
    group = formed(deps, c, member())
    join_and_pay(deps, group, member())
    double = member()
    checkout = groups.join_group(deps, double, group.share_code, IP)
    Enrollment.create(user=double, course=c.course_id, order=_an_order(deps))  # came to own it meanwhile
    assert pay(deps, checkout.order) == 'group_succeeded'
    assert Refund.select().where(Refund.reason == 'tier_difference').count() == 0  # two bought: the ¥99 tier
    assert Refund.get(Refund.order == checkout.order.id).reason == 'already_enrolled'
    confirm_refunds(deps)
    assert audit(deps.now(), grace_s=0) == []


def test_a_second_account_that_referred_the_first_loses_the_reward_when_they_merge(deps):
    from groupbuy.account_merge import merge_users
    a = member()
    b = referred(a)  # the same person's second account, registered through A's own share
    group = formed(deps, campaign(reward={'kind': 'points', 'points': 500}), member())
    join_and_pay(deps, group, b)
    join_and_pay(deps, group, member())
    assert rewards.summary_of(a.id, deps.now()).points == 500
    kept = merge_users(deps, a.id, b.id)
    assert rewards.summary_of(kept.id, deps.now()).points == 0
    assert Reward.get().status == 'revoked'
    summary = rewards.summary_of(kept.id, deps.now())
    assert len(summary.coupons) == 1 and summary.coupons[0].newcomer is None  # still listed, with its ledger
    assert audit(deps.now(), grace_s=0) == []


def test_a_tiered_draft_takes_no_auto_complete_ratio_and_no_size_of_its_own(deps):
    c = campaign(tiers=TIERS, group_size=None, group_price_fen=None, status='draft')
    with pytest.raises(errors.InvalidInput, match='auto-complete'):
        catalog.update_campaign(c.id, {'auto_complete_ratio': 0.5})
    with pytest.raises(errors.InvalidInput, match='from its tiers'):
        catalog.update_campaign(c.id, {'group_size': 7})


def test_a_free_leader_is_no_longer_a_new_user(deps):
    leader = member()
    group = formed(deps, campaign(leader_price_fen=0, new_users_only=True), leader)
    join_and_pay(deps, group, member())
    join_and_pay(deps, group, member())
    with pytest.raises(errors.LimitReached, match='new users'):
        groups.open_group(deps, User.get_by_id(leader.id), campaign(leader_price_fen=0, new_users_only=True).id, IP)
