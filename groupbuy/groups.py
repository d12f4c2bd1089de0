"""Opening a group (开团) and joining one (参团): reserve a seat, create the order, start payment."""
import datetime as dt
import secrets
from dataclasses import dataclass

from peewee import IntegrityError, fn

from . import catalog, errors, experiments, prepared, rewards, tiers
from .clock import to_ms
from .db import locked
from .domain_events import GroupOpened, SeatReserved
from .models import Campaign, Course, Enrollment, Group, Order, Seat, User
from .payments import seat_paid
from .prepared import Prepared
from .ports import MINIAPP, OFFICIAL_ACCOUNT, GatewayError
from .progress import Progress, progress_of_group
from .risk import decisions as risk
from .risk.signals import Signals
from .seat_ledger import LedgerSeat
from .transition import transition

LIVE_ORDER_STATUSES = ('created', 'paid', 'fulfilled')


@dataclass
class Checkout:
    """What the buyer needs next: the group, their order and the wx.requestPayment fields."""
    group: Group
    order: Order
    pay_params: dict
    progress: Progress  # as the transition left it
    seat: Seat | None = None  # the buyer's seat as this call took it (reserved), so the answer need not look it up


def open_group(deps, user: User, campaign_id: int, client: Signals | str, course_id: int | None = None,
               coupon_id: int | None = None) -> Checkout:
    """Open a group as its leader and start the leader's payment; the group forms once it is paid. The group
    keeps the rules it opens with (its leader's variant's in an A/B test, its tiers) to its end. `client`: who
    is asking (groupbuy/risk: an address alone when nothing more is known); `course_id`: the leader's pick in a
    cross-course campaign; `coupon_id`: a coupon of theirs to spend (groupbuy/rewards.py). A free leader
    (leader price 0, 团长免单) pays nothing: WeChat takes no zero amount, so the seat is taken paid at once and
    the group forms without a payment (`pay_params` None).
    Raises NotFound, InvalidInput, CampaignNotActive, AlreadyEnrolled, AlreadyBuying, LimitReached, RiskRefused,
    VerificationRequired, CouponUnavailable, PaymentUnavailable."""
    now = deps.now()
    signals = _signals(client)
    campaign = catalog.get_campaign(campaign_id)
    catalog.ensure_selling(campaign, now)
    course_id = catalog.pick_course(campaign, course_id)
    _ensure_may_buy(user, campaign, course_id=course_id)
    verdict = risk.assess(now, 'open', user, campaign, None, signals)
    rules = experiments.rules_for(campaign, user.id)  # the leader's variant (an A/B test), else the campaign's
    discount = rewards.quote(user.id, coupon_id, rules.leader_price_fen, now)
    until = now + dt.timedelta(seconds=deps.pay_window_s)
    with transition(deps, now) as t:
        _ensure_may_buy(user, campaign, lock=True, course_id=course_id)
        if campaign.max_groups is not None:
            locked(Campaign.select().where(Campaign.id == campaign.id)).execute()
            if catalog.groups_opened(campaign) >= campaign.max_groups:
                raise errors.LimitReached('this campaign has no more groups to open')
        group = Group.create(campaign=campaign, leader=user, share_code=_new_share_code(), size=rules.size,
                             duration_s=rules.duration_s, price_fen=rules.price_fen, variant=rules.variant,
                             leader_price_fen=(None if rules.leader_price_fen == rules.price_fen
                                               else rules.leader_price_fen),
                             tiers=tiers.dump(rules.tiers), status='pending', opened_at=now)
        order, seat = _create_order_and_seat(group, user, 'leader', rules.leader_price_fen - discount, until, now,
                                             _new_trade_no(now), course_id=course_id, discount_fen=discount,
                                             coupon_id=coupon_id)
        if coupon_id is not None:
            rewards.hold(now, user.id, coupon_id, order.id)
        risk.keep(verdict, group.id)
        progress = progress_of_group(group.id)
        t.emit(GroupOpened(group, seat, progress))
        if rules.leader_price_fen == 0:
            progress = _take_free_seat(t, seat, group, order)
    if rules.leader_price_fen == 0:
        return Checkout(group=group, order=order, pay_params=None, progress=progress)
    return _checkout(deps, user, group, order, seat, signals.ip, progress)


def join_group(deps, user: User, share_code: str, client: Signals | str, course_id: int | None = None,
               coupon_id: int | None = None, door: str = MINIAPP) -> Checkout:
    """Take a seat in someone's group for the pay window and start payment. `client`: who is asking;
    `course_id`: the member's pick in a cross-course campaign; `coupon_id`: a coupon of theirs to spend; `door`:
    where they pay (ports.PAY_DOORS: the mini-program, or the official account for a page in WeChat's browser),
    which picks the appid and the openid WeChat makes the order for.
    Raises NotFound, InvalidInput, OwnGroup, GroupClosed, GroupFull, AlreadyJoined, CampaignNotActive,
    AlreadyEnrolled, AlreadyBuying, LimitReached, RiskRefused, VerificationRequired, CouponUnavailable,
    PaymentUnavailable.

    The hot path of a flash sale, so its statements are counted (tests/integration/test_query_budgets.py):
    the group with the joiner's counts (the check without lock, in the same read), the seat in Redis, WeChat's
    prepay (before any write, so the one write transaction stores the order with its prepay id), the check
    again under the user's lock, the inserts, and the counts the live page needs."""
    now = deps.now()
    group = find_group(share_code, joiner=user)
    campaign = group.campaign
    if group.leader_id == user.id:
        raise errors.OwnGroup()
    if group.status == 'pending':
        raise errors.GroupClosed('the group opens when its leader has paid')
    if group.status != 'forming' or now >= group.deadline_at:
        raise errors.GroupClosed(f'the group is {group.status if group.status != "forming" else "past its deadline"}')
    if campaign.status != 'active':
        raise errors.CampaignNotActive(f'campaign {campaign.id} is {campaign.status}')
    course_id = catalog.pick_course(campaign, course_id)
    if course_id == campaign.course_id:  # counted with the group, for the campaign's own course
        _judge_may_buy(user, campaign, vars(group))
    else:  # a cross-course pick: counted for that course
        _ensure_may_buy(user, campaign, group=group, course_id=course_id)
    signals = _signals(client)
    judged = risk.assess(now, 'join', user, campaign, group.id, signals)
    discount = rewards.quote(user.id, coupon_id, group.price_fen, now)
    until = now + dt.timedelta(seconds=deps.pay_window_s)
    verdict = deps.ledger.reserve(group.id, user.id, to_ms(now), to_ms(until))
    if verdict == 'unknown':
        restore_group_ledger(deps, group)
        verdict = deps.ledger.reserve(group.id, user.id, to_ms(now), to_ms(until))
    elif verdict == 'closed':  # the leader's payment committed but Redis has not heard yet: catch it up
        deps.ledger.set_state(group.id, 'open', to_ms(group.deadline_at))
        verdict = deps.ledger.reserve(group.id, user.id, to_ms(now), to_ms(until))
    if verdict != 'ok':
        raise {'full': errors.GroupFull, 'already': errors.AlreadyJoined}.get(verdict, errors.GroupClosed)()
    trade_no = _new_trade_no(now)
    try:
        prepay = _prepay(deps, user, group, trade_no, group.price_fen - discount, until, signals.ip, door)
    except BaseException:
        deps.ledger.release(group.id, user.id, to_ms(until))
        raise
    t = None
    try:
        with transition(deps, now) as t:
            _ensure_may_buy(user, campaign, lock=True, group=group, course_id=course_id)
            order, seat = _create_order_and_seat(group, user, 'member', group.price_fen - discount, until, now,
                                                 trade_no, prepay.prepay_id, course_id=course_id,
                                                 discount_fen=discount, coupon_id=coupon_id, pay_appid=prepay.appid)
            if coupon_id is not None:
                rewards.hold(now, user.id, coupon_id, order.id)
            risk.keep(judged)
            t.emit(SeatReserved(group, seat))
    except BaseException as exc:
        if t is not None and t.committed:
            raise  # the seat is written: interrupted in an after-commit handler, nothing to take back
        deps.ledger.release(group.id, user.id, to_ms(until))
        _close_quietly(deps, trade_no, prepay.appid)  # nobody was given this payment: WeChat must not take it either
        if isinstance(exc, IntegrityError):
            raise errors.AlreadyJoined() from None
        raise
    return Checkout(group=group, order=order, pay_params=prepay.pay_params, seat=seat,
                    progress=t.committed_progress(group.id))  # read once: the live event's too


def _signals(client: Signals | str) -> Signals:
    return client if isinstance(client, Signals) else Signals(ip=client)


_GROUP_BY_CODE = Prepared(lambda share_code: Group.select(Group, Campaign, Course).join(Campaign).join(Course)
                          .where(Group.share_code == share_code).limit(1), share_code=str)


def find_group(share_code: str, joiner: User | None = None) -> Group:
    """The group with its campaign and course; with `joiner`, also their may-buy counts for the campaign's course
    (`_group_for_joiner`: the join's first read). Raises NotFound."""
    group = (_GROUP_BY_CODE.first(share_code=share_code) if joiner is None
             else _GROUP_FOR_JOINER.first(share_code=share_code, user_id=joiner.id))
    if group is None:
        raise errors.NotFound('no group with that share code')
    return group


def restore_group_ledger(deps, group: Group) -> bool:
    """Write a live group's seats from the database into Redis if Redis has lost them."""
    if group.status not in ('pending', 'forming'):
        return False
    seats = [LedgerSeat(s.user_id, s.status == 'paid', to_ms(s.reserved_until))
             for s in Seat.select().where(Seat.group == group.id, Seat.status != 'released')]
    deadline_ms = to_ms(group.deadline_at) if group.deadline_at else 0
    state = 'open' if group.status == 'forming' else 'pending'
    return deps.ledger.restore(group.id, group.size, state, deadline_ms, seats)


def _ensure_may_buy(user: User, campaign: Campaign, lock: bool = False, group: Group | None = None,
                    course_id: int | None = None) -> None:
    """One person buys a course once: no second live order (created, paid, fulfilled) for a course
    they own or are already buying, in any campaign; `per_user_limit` caps the user's live groups in
    this campaign (it matters once a campaign holds several courses); joining `group`, a live seat there
    already is `already_joined`. One statement: the user's row with those counts. Checked before anything is taken (cheap refusals), then again with `lock` inside
    the write transaction (the user's row locked on PostgreSQL; SQLite's lock is the transaction), so
    two parallel joins of one person cannot both pass."""
    course = campaign.course_id if course_id is None else course_id  # a cross-course campaign: the pick
    values = dict(user_id=user.id, course_id=course, campaign_id=campaign.id)
    if group is not None:
        values['group_id'] = group.id
    row = _MAY_BUY[lock, group is not None].first(**values)
    if row is None:
        raise errors.NotFound('user not found')
    _judge_may_buy(user, campaign, row)


def _judge_may_buy(user: User, campaign: Campaign, row: dict) -> None:
    """`_ensure_may_buy`'s refusals on its counts (`owned`, `buying`, `held`, and `seated` when joining)."""
    if campaign.new_users_only and user.first_paid_at is not None:
        raise errors.LimitReached('this campaign is for new users only')
    if row.get('seated'):
        raise errors.AlreadyJoined()  # in this very group (the more precise answer than "already buying")
    if row['owned']:
        raise errors.AlreadyEnrolled()
    if row['buying']:
        raise errors.AlreadyBuying()
    if row['held'] >= campaign.per_user_limit:
        raise errors.LimitReached(f'you can take part in {campaign.per_user_limit} group(s) of this campaign')


def _buyer_counts(user_id, course, campaign, group=None) -> list:
    """What `_judge_may_buy` counts, as scalar subqueries: `course`, `campaign` and `group` are values or the
    columns of an enclosing query (the join reads them with its group)."""
    live, other = Order.status.in_(LIVE_ORDER_STATUSES), Group.alias()
    counts = [
        Enrollment.select(fn.COUNT(Enrollment.id)).where(Enrollment.user == user_id, Enrollment.course == course)
        .alias('owned'),
        Order.select(fn.COUNT(Order.id)).where(Order.user == user_id, Order.course == course, live).alias('buying'),
        Order.select(fn.COUNT(Order.id)).join(other, on=(Order.group == other.id))
        .where(Order.user == user_id, other.campaign == campaign, live).alias('held')]
    if group is not None:
        counts.append(Seat.select(fn.COUNT(Seat.id)).where(Seat.group == group, Seat.user == user_id,
                                                           Seat.status != 'released').alias('seated'))
    return counts


def _may_buy_counts(lock: bool, in_group: bool) -> Prepared:
    """The user's row with what `_judge_may_buy` counts, as one statement."""
    def build(user_id, course_id, campaign_id, group_id=None):
        query = User.select(*_buyer_counts(user_id, course_id, campaign_id, group_id if in_group else None)).where(
            User.id == user_id).limit(1)
        return (locked(query, of=User) if lock else query).dicts()
    kinds = dict(user_id=int, course_id=int, campaign_id=int, **({'group_id': int} if in_group else {}))
    return Prepared(build, **kinds)


_MAY_BUY = {(lock, in_group): _may_buy_counts(lock, in_group) for lock in (False, True) for in_group in (False, True)}


def _group_for_joiner(share_code, user_id):
    """The group with its campaign and course, and the joiner's counts for the campaign's course, in one read: the
    join's first statement, before anything is taken."""
    return (Group.select(Group, Campaign, Course, *_buyer_counts(user_id, Campaign.course, Group.campaign, Group.id))
            .join(Campaign).join(Course).where(Group.share_code == share_code).limit(1))


_GROUP_FOR_JOINER = Prepared(_group_for_joiner, share_code=str, user_id=int)


def _create_order_and_seat(group, user, role, amount_fen, until, now, trade_no, prepay_id=None, *, course_id,
                           discount_fen=0, coupon_id=None, pay_appid=None) -> tuple[Order, Seat]:
    order = prepared.create(Order, user=user, group=group, course=course_id, amount_fen=amount_fen,
                            discount_fen=discount_fen, coupon_id=coupon_id, status='created', out_trade_no=trade_no,
                            prepay_id=prepay_id, pay_appid=pay_appid, created_at=now)
    seat = prepared.create(Seat, group=group, user=user, order=order, role=role, status='reserved',
                           reserved_until=until, created_at=now)
    return order, seat


def _new_trade_no(now) -> str:
    return f'PK{now:%y%m%d}{secrets.token_hex(8)}'


def _new_share_code() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, 72 random bits: not guessable, fits a wxa scene


def _checkout(deps, user, group, order, seat, client_ip, progress) -> Checkout:
    """The leader's prepay, after the group exists; if WeChat refuses, the seat (and group) go at once."""
    try:
        prepay = _prepay(deps, user, group, order.out_trade_no, order.amount_fen, seat.reserved_until, client_ip)
    except errors.PaymentUnavailable:
        _abandon(deps, seat.id)
        raise
    Order.update(prepay_id=prepay.prepay_id, pay_appid=prepay.appid).where(Order.id == order.id).execute()
    order.prepay_id, order.pay_appid = prepay.prepay_id, prepay.appid
    return Checkout(group=group, order=order, pay_params=prepay.pay_params, progress=progress, seat=seat)


def _prepay(deps, user, group, trade_no, amount_fen, until, client_ip, door=MINIAPP):
    """WeChat Pay's prepay id and the fields the door's page pays with (wx.requestPayment, getBrandWCPayRequest),
    for the user's openid in the door's app. Raises InvalidInput (no openid there), PaymentUnavailable."""
    openid = user.oa_openid if door == OFFICIAL_ACCOUNT else user.openid
    if door == OFFICIAL_ACCOUNT and not openid:
        raise errors.InvalidInput('paying through the official account needs its sign-in (H5 OAuth) first',
                                  field='pay_via')
    try:
        return deps.gateway.create_prepay(out_trade_no=trade_no, amount_fen=amount_fen,
                                          description=group.campaign.course.title, openid=openid,
                                          expires_at=until, client_ip=client_ip, door=door)
    except GatewayError as exc:
        raise errors.PaymentUnavailable(f'payment could not be started: {exc}')


def _close_quietly(deps, trade_no: str, appid: str | None = None) -> None:
    try:
        deps.gateway.close_order(trade_no, appid)
    except GatewayError:
        pass  # never given to the payer, so never paid; it expires at WeChat on its own


def _take_free_seat(t, seat: Seat, group: Group, order: Order) -> Progress:
    """A free leader's seat (团长免单): paid at once with nothing charged — no prepay, no transaction, nothing WeChat
    could ever refund — and the group forms. Its order (amount 0) is fulfilled with the group or closed if it fails.
    The group's progress after it."""
    Order.update(status='paid', paid_at=t.now).where(Order.id == order.id, Order.status == 'created').execute()
    order.status, order.paid_at = 'paid', t.now
    seat_paid(t, seat, group, order)
    return progress_of_group(group.id)


def _abandon(deps, seat_id: int) -> None:
    from .settlement import release_seat  # late import: settlement builds on this module
    release_seat(deps, seat_id, force=True)
