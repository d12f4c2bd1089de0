"""How domain objects look in JSON. Public views carry no openids and no order data."""
from groupbuy import rewards, tiers
from groupbuy.catalog import courses_of, is_cross_course, variants_of
from groupbuy.clock import iso
from groupbuy.live_events import counts, member_card
from groupbuy.members import paid_members, seat_of
from groupbuy.progress import progress_of_group
from groupbuy.nudge_schedule import offsets_of
from groupbuy.orders import refund_of


def course_json(course) -> dict:
    return {'id': course.id, 'title': course.title, 'price_fen': course.price_fen,
            'cover_url': course.cover_url, 'status': course.status}


def campaign_json(campaign) -> dict:
    return {'id': campaign.id, 'course': course_json(campaign.course), 'group_size': campaign.group_size,
            'duration_s': campaign.duration_s, 'group_price_fen': campaign.group_price_fen,
            'leader_price_fen': campaign.leader_price_fen, 'starts_at': iso(campaign.starts_at),
            'ends_at': iso(campaign.ends_at), 'max_groups': campaign.max_groups,
            'per_user_limit': campaign.per_user_limit, 'new_users_only': campaign.new_users_only,
            'auto_complete_ratio': campaign.auto_complete_ratio, 'status': campaign.status,
            'nudge_offsets_s': offsets_of(campaign), 'variants': [variant_json(v) for v in variants_of(campaign)],
            'winner_variant': campaign.winner_variant,
            'tiers': [{'size': t.size, 'price_fen': t.price_fen} for t in tiers.parse(campaign.tiers)],
            'reward': rewards.terms_of(campaign),
            'courses': [course_json(c) for c in courses_of(campaign)],  # what a member may pick (cross-course)
            'price_band_fen': [campaign.band_low_fen, campaign.band_high_fen] if is_cross_course(campaign) else None}


def variant_json(variant) -> dict:
    return {'name': variant.name, 'weight': variant.weight, 'group_size': variant.group_size,
            'duration_s': variant.duration_s, 'group_price_fen': variant.group_price_fen,
            'leader_price_fen': variant.leader_price_fen}


def user_json(user) -> dict:
    return {'id': user.id, 'nickname': user.nickname, 'avatar_url': user.avatar_url,
            'created_at': iso(user.created_at)}


def group_json(group, now, viewer=None, progress=None, seat=None, summary=False) -> dict:
    """The group page: who is in, how many seats are left, and the deadline against server time.
    `progress`: the transition's snapshot when there is one (the counts are the live events' counts);
    `seat`: the viewer's seat when the caller has just taken it (not looked up again); `summary`: without its
    members and campaign (a checkout's answer, below)."""
    p = progress or progress_of_group(group.id)
    body = {
        'share_code': group.share_code, **counts(p),
        'variant': group.variant, 'price_fen': group.price_fen,  # the rules it opened with, kept to its end
        'leader_price_fen': group.leader_price_fen,  # when the leader pays another price (0: a free leader)
        'tier': tiers.view(tiers.parse(group.tiers), p.paid) if group.tiers else None,
        'opened_at': iso(group.opened_at), 'closed_at': iso(group.closed_at), 'server_time': iso(now),
    }
    if not summary:
        cross = is_cross_course(group.campaign)
        body['members'] = [member_card(nickname, avatar, role, course_id if cross else None)
                           for nickname, avatar, role, course_id in paid_members(group.id)]
        body['campaign'] = campaign_json(group.campaign)
    if viewer is not None:
        mine = seat if seat is not None else seat_of(group, viewer)
        body['my_seat'] = None if mine is None else {
            'role': mine.role, 'status': mine.status, 'order_id': mine.order_id,
            'reserved_until': iso(mine.reserved_until) if mine.status == 'reserved' else None}
    return body


def order_json(order, fresh: bool = False) -> dict:
    """`fresh`: an order this request created, which has no refund yet (not looked up)."""
    def shown(refund):
        return None if refund is None else {'status': refund.status, 'amount_fen': refund.amount_fen,
                                            'reason': refund.reason, 'succeeded_at': iso(refund.succeeded_at)}
    return {'id': order.id, 'status': order.status, 'amount_fen': order.amount_fen,
            'discount_fen': order.discount_fen, 'coupon_id': order.coupon_id,
            'out_trade_no': order.out_trade_no, 'course_id': order.course_id,
            'group_share_code': order.group.share_code if order.group_id else None,
            'created_at': iso(order.created_at), 'paid_at': iso(order.paid_at),
            'refund': None if fresh else shown(refund_of(order)),
            'tier_refund': None if fresh or not (order.group_id and order.group.tiers)
            else shown(refund_of(order, partial=True))}


def checkout_json(checkout, now, viewer) -> dict:
    """What the buyer needs next — their seat, their order, the payment fields — and the group's counts; not its
    members or campaign: the page that asked has them (GET /api/groups/<code>) and the live stream keeps them
    current, and a join's answer is a flash sale's hot path (a statement and a tenth of its CPU less)."""
    return {'group': group_json(checkout.group, now, viewer, checkout.progress, checkout.seat, summary=True),
            'order': order_json(checkout.order, fresh=True), 'pay_params': checkout.pay_params}


def experiment_json(results) -> dict:
    """An A/B test's results page: per variant its rules, counts, rates and revenue, then the verdict."""
    def interval(pair, digits):
        return None if pair is None else [round(pair[0], digits), round(pair[1], digits)]
    v = results.verdict
    return {
        'campaign_id': results.campaign_id, 'winner_variant': results.winner, 'stopped_at': iso(results.stopped_at),
        'variants': [{
            'name': r.name, 'weight': r.weight, 'group_size': r.rules.size, 'duration_s': r.rules.duration_s,
            'group_price_fen': r.rules.price_fen, 'leader_price_fen': r.rules.leader_price_fen,
            'opened': r.opened, 'decided': r.decided, 'succeeded': r.succeeded,
            'success_rate': None if r.success_rate is None else round(r.success_rate, 4),
            'success_interval': interval(r.success_interval, 4),
            'revenue_per_group_fen': None if r.revenue_per_group_fen is None else round(r.revenue_per_group_fen, 1),
            'revenue_interval_fen': interval(r.revenue_interval_fen, 1),
        } for r in results.variants],
        'verdict': {'text': v.text, 'leader': v.leader, 'significant': v.significant,
                    'more_decided_groups_needed': v.more_decided_needed,
                    'p_value': None if v.p_value is None else round(v.p_value, 4)},
    }
