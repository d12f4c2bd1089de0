"""Referral rewards (老带新): a user who brings a newcomer — someone who registered through their share — into a
group that succeeds earns what the campaign offers: a coupon (an amount off a next course, from a minimum price,
until it expires) or points. Once per newcomer. Granted only on success, so a group held for risk review earns
nothing until an operator approves it; revoked when the newcomer's order is refunded.

A coupon is spent at checkout on the server: the checkout's order *holds* it (a conditional UPDATE, so of twenty
concurrent checkouts one wins), the payment *uses* it, an unpaid order *releases* it and a refunded one *returns*
it. Every move is a `RewardEntry` row: the ledger the user sees (`GET /api/me/rewards`) and `flask audit` checks.
"""
import datetime as dt
import json
from dataclasses import dataclass

from peewee import JOIN, fn

from . import errors
from .models import Campaign, Group, Order, Reward, RewardEntry, User

COUPON_LIMITS = {'amount_fen': (1, 10_000_000), 'min_spend_fen': (2, 100_000_000), 'valid_days': (1, 366)}
POINTS_LIMIT = 1_000_000
FULL_REFUNDS_KEEP_REWARD = ('tier_difference',)  # a partial refund: the course was bought, the reward stands
REFUNDS_OF_FULFILLED = ('already_enrolled', 'after_sale')  # refunds that can take back a course (and its reward)


def check_terms(terms: dict | None, field: str = 'reward') -> str | None:
    """A campaign's reward as stored JSON (None: no reward). Raises InvalidInput."""
    if not terms:
        return None
    kind = terms.get('kind')
    if kind == 'coupon':
        wanted = COUPON_LIMITS
    elif kind == 'points':
        wanted = {'points': (1, POINTS_LIMIT)}
    else:
        raise errors.InvalidInput('a reward is {"kind": "coupon", ...} or {"kind": "points", ...}', field=f'{field}.kind')
    unknown = sorted(set(terms) - set(wanted) - {'kind'})
    if unknown:
        raise errors.InvalidInput(f'unknown reward settings: {", ".join(unknown)}', field=f'{field}.{unknown[0]}')
    for name, (least, most) in wanted.items():
        value = terms.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
            raise errors.InvalidInput(f'{name} must be a whole number from {least} to {most}', field=f'{field}.{name}')
    if kind == 'coupon' and terms['min_spend_fen'] <= terms['amount_fen']:
        # WeChat Pay takes no zero amount: a coupon always leaves at least 1 fen to pay
        raise errors.InvalidInput('min_spend_fen must be more than amount_fen', field=f'{field}.min_spend_fen')
    return json.dumps({k: terms[k] for k in ('kind', *wanted)}, sort_keys=True)


def terms_of(campaign: Campaign) -> dict | None:
    return json.loads(campaign.reward) if campaign.reward else None


# --- granting and revoking (in the transition that decides the group or starts the refund) ---

def grant_for(now: dt.datetime, group: Group, orders: list[Order]) -> list[Reward]:
    """Rewards for the referrers of newcomers among a succeeded group's fulfilled orders (once per newcomer)."""
    terms = terms_of(group.campaign)
    if not terms or not orders:
        return []
    by_user = {o.user_id: o for o in orders if o.amount_fen > 0}  # a free seat brings no reward
    newcomers = list(User.select(User.id, User.referred_by).where(User.id.in_(list(by_user)),
                                                                  User.referred_by.is_null(False)))
    granted = []
    for newcomer in newcomers:
        if newcomer.referred_by_id == newcomer.id:
            continue
        order = by_user[newcomer.id]
        row = dict(user=newcomer.referred_by_id, kind=terms['kind'], amount_fen=terms.get('amount_fen', 0),
                   min_spend_fen=terms.get('min_spend_fen', 0), points=terms.get('points', 0),
                   expires_at=now + dt.timedelta(days=terms['valid_days']) if 'valid_days' in terms else None,
                   status='available', earned_by=order.id, newcomer=newcomer.id, campaign=group.campaign_id,
                   created_at=now)
        reward_id = Reward.insert(row).on_conflict_ignore().execute()
        if not reward_id or not Reward.select().where(Reward.id == reward_id, Reward.earned_by == order.id).exists():
            continue  # this newcomer already earned their referrer a reward
        reward = Reward.get_by_id(reward_id)
        _entry(now, reward, 'grant', order.id, reward.points, f'newcomer {newcomer.id} in group {group.id}')
        granted.append(reward)
    return granted


def after_refunds(now: dt.datetime, orders: list[Order], reason: str) -> None:
    """Refunded orders give back what they held: a coupon they used returns to its owner, and a reward they earned
    is revoked (points taken back; a coupon already spent is revoked too, with a note — its discount was given)."""
    if reason in FULL_REFUNDS_KEEP_REWARD or not orders:
        return
    ids = [o.id for o in orders]
    with_coupon = [o.id for o in orders if o.coupon_id]
    for coupon in Reward.select().where(Reward.order.in_(with_coupon), Reward.status.in_(('held', 'used'))) \
            if with_coupon else ():
        expired = coupon.expires_at is not None and coupon.expires_at <= now
        Reward.update(status='available', order=None).where(Reward.id == coupon.id,
                                                            Reward.status == coupon.status).execute()
        _entry(now, coupon, 'return', coupon.order_id, 0, 'the order it paid for was refunded'
               + (' (already expired)' if expired else ''))
    if reason not in REFUNDS_OF_FULFILLED:
        return  # the order was never fulfilled, so it earned nothing
    for reward in Reward.select().where(Reward.earned_by.in_(ids), Reward.status != 'revoked'):
        spent = reward.status == 'used'
        Reward.update(status='revoked').where(Reward.id == reward.id, Reward.status == reward.status).execute()
        _entry(now, reward, 'revoke', reward.earned_by_id, -reward.points,
               f'order {reward.earned_by_id} that earned it was refunded'
               + (f' (already used on order {reward.order_id})' if spent else ''))


def before_merge(now: dt.datetime, keep_id: int, drop_id: int) -> None:
    """Two accounts of one person become one: one person is one newcomer, so if both brought their referrers a
    reward, the dropped account's is revoked (its points taken back) and no longer names a newcomer."""
    pair = (keep_id, drop_id)
    kept = Reward.select().where(Reward.newcomer == keep_id).exists()
    twice = Reward.select().where(Reward.newcomer == drop_id) if kept else []
    own = Reward.select().where(Reward.user.in_(pair), Reward.newcomer.in_(pair))  # one account referred the other
    for reward, why in [(r, 'one newcomer earns one reward') for r in twice] + [
            (r, 'a person cannot bring themselves') for r in own]:
        Reward.update(status='revoked', newcomer=None).where(Reward.id == reward.id).execute()
        if reward.status != 'revoked':
            _entry(now, reward, 'revoke', reward.earned_by_id, -reward.points,
                   f'user {drop_id} merged into user {keep_id}: {why}')


# --- spending a coupon ---

def quote(user_id: int, coupon_id: int | None, price_fen: int, now: dt.datetime) -> int:
    """The amount off `price_fen` the user's coupon gives (0 without one), checked before anything is taken.
    Raises CouponUnavailable (not theirs, not available, expired, below its minimum price)."""
    if coupon_id is None:
        return 0
    coupon = Reward.get_or_none(Reward.id == coupon_id, Reward.user == user_id, Reward.kind == 'coupon')
    if coupon is None:
        raise errors.CouponUnavailable('you have no such coupon')
    if coupon.status != 'available' or (coupon.expires_at is not None and coupon.expires_at <= now):
        raise errors.CouponUnavailable(f'this coupon is {_shown_status(coupon, now)}')
    if price_fen < coupon.min_spend_fen or price_fen - coupon.amount_fen < 1:
        raise errors.CouponUnavailable(f'this coupon applies from {coupon.min_spend_fen} fen')
    return coupon.amount_fen


def hold(now: dt.datetime, user_id: int, coupon_id: int, order_id: int) -> None:
    """The checkout's order holds the coupon, inside its write transaction: one conditional UPDATE, so of several
    concurrent checkouts exactly one holds it. Raises CouponUnavailable (the transaction rolls back)."""
    held = (Reward.update(status='held', order=order_id)
            .where(Reward.id == coupon_id, Reward.user == user_id, Reward.status == 'available',
                   (Reward.expires_at.is_null()) | (Reward.expires_at > now)).execute())
    if not held:
        raise errors.CouponUnavailable('this coupon was just used by another checkout')
    _entry(now, Reward.get_by_id(coupon_id), 'hold', order_id, 0, '')


def use(now: dt.datetime, order: Order) -> bool:
    """The order was paid: its coupon is used. False if the coupon is no longer its own to use (a payment that
    arrived after its order was closed and the coupon went to another checkout): that payment is refunded."""
    if not order.coupon_id:
        return True
    used = (Reward.update(status='used', order=order.id)
            .where(Reward.id == order.coupon_id,
                   ((Reward.status == 'held') & (Reward.order == order.id)) | (Reward.status == 'available'))
            .execute())
    if used:
        _entry(now, Reward.get_by_id(order.coupon_id), 'use', order.id, 0, '')
    return bool(used)


def release(now: dt.datetime, order_ids: list[int]) -> None:
    """Orders closed unpaid let go of the coupons they held."""
    if not order_ids:
        return
    for coupon in Reward.select().where(Reward.order.in_(order_ids), Reward.status == 'held'):
        if Reward.update(status='available', order=None).where(Reward.id == coupon.id,
                                                               Reward.status == 'held').execute():
            _entry(now, coupon, 'release', coupon.order_id, 0, 'the order was not paid')


def _entry(now, reward: Reward, action: str, order_id: int | None, points: int, note: str) -> None:
    RewardEntry.create(reward=reward.id, user=reward.user_id, action=action, order=order_id, points=points,
                       note=note[:200], at=now)


# --- what the user sees ---

@dataclass(frozen=True)
class Summary:
    points: int
    coupons: list[Reward]   # with `shown_status` and `newcomer_nickname` set
    entries: list[RewardEntry]


def summary_of(user_id: int, now: dt.datetime) -> Summary:
    """A user's points balance, coupons (newest first) and ledger."""
    points = (RewardEntry.select(fn.COALESCE(fn.SUM(RewardEntry.points), 0))
              .where(RewardEntry.user == user_id).scalar() or 0)
    coupons = list(Reward.select(Reward, User).join(User, JOIN.LEFT_OUTER, on=(Reward.newcomer == User.id))
                   .where(Reward.user == user_id).order_by(Reward.id.desc()))
    for c in coupons:
        c.shown_status = _shown_status(c, now)
    entries = list(RewardEntry.select().where(RewardEntry.user == user_id).order_by(RewardEntry.id.desc()).limit(200))
    return Summary(points=int(points), coupons=coupons, entries=entries)


def campaign_counts(campaign_id: int) -> dict[str, int]:
    """Rewards earned through a campaign, by status (their total: granted). A used coupon may have been spent on any
    campaign's checkout."""
    rows = (Reward.select(Reward.status, fn.COUNT(Reward.id)).where(Reward.campaign == campaign_id)
            .group_by(Reward.status).tuples())
    counts = {status: int(n) for status, n in rows}
    return {'granted': sum(counts.values()), **{s: counts.get(s, 0) for s in ('available', 'held', 'used', 'revoked')}}


def _shown_status(reward: Reward, now: dt.datetime) -> str:
    if reward.status == 'available' and reward.expires_at is not None and reward.expires_at <= now:
        return 'expired'
    return reward.status


def check_ledger() -> list[tuple[str, str, str]]:
    """The rewards' invariants for `flask audit`: (rule, subject, detail) for each break. A coupon is used by at
    most one paid order and that order carries its discount; a revoked reward's points are taken back."""
    out = []
    for r in Reward.select(Reward, Order).join(Order, on=(Reward.order == Order.id)).where(Reward.status == 'used'):
        if r.order.coupon_id != r.id or r.order.status not in ('paid', 'fulfilled'):
            out.append(('coupon_misused', f'reward {r.id}', f'used by order {r.order.id} ({r.order.status})'))
    for row in (Order.select(Order.coupon_id, fn.COUNT(Order.id).alias('n'))
                .where(Order.coupon_id.is_null(False), Order.status.in_(('paid', 'fulfilled')))
                .group_by(Order.coupon_id).having(fn.COUNT(Order.id) > 1)):
        out.append(('coupon_used_twice', f'reward {row.coupon_id}', f'{row.n} paid orders used it'))
    for o in (Order.select(Order, Reward).join(Reward, JOIN.LEFT_OUTER, on=(Reward.id == Order.coupon_id))
              .where(Order.coupon_id.is_null(False), Order.status.in_(('paid', 'fulfilled')))):
        coupon = o.reward if o.coupon_id and hasattr(o, 'reward') else None
        if coupon is None or coupon.id is None or not (coupon.status == 'revoked' or (
                coupon.status == 'used' and coupon.order_id == o.id)):
            out.append(('coupon_not_used', f'order {o.id}', f'paid with coupon {o.coupon_id}, which is '
                                                             f'{getattr(coupon, "status", None)} for order '
                                                             f'{getattr(coupon, "order_id", None)}'))
    for r in Reward.select().where(Reward.user == Reward.newcomer):
        out.append(('self_referral', f'reward {r.id}', f'user {r.user_id} earned it for bringing themselves'))
    for r in Reward.select().where(Reward.status == 'revoked', Reward.kind == 'points'):
        balance = RewardEntry.select(fn.COALESCE(fn.SUM(RewardEntry.points), 0)).where(RewardEntry.reward == r.id).scalar()
        if balance:
            out.append(('points_not_taken_back', f'reward {r.id}', f'{balance} points still counted'))
    return out
