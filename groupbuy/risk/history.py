"""The facts the rules decide on, read from the decision log, the seats and the blocklist as they stood at a
moment: `before` for an open or a join (live: now; replay: a recorded check's time, counting only what was
logged before it), `fill_of` for a group about to succeed. Live and replay call the same functions, so a
recorded log replayed under the same rules gives the same decisions."""
import datetime as dt

from peewee import fn

from ..models import Order, RiskBlock, RiskCheck, Seat, User
from .rules import Fill, History, RuleConfig

from .signals import Signals

OPEN_OR_JOIN = ('open', 'join')


def before(at: dt.datetime, action: str, user_id: int, group_id: int | None, signals: Signals, rules: RuleConfig,
           before_id: int | None = None) -> History:
    """History just before an attempt. `before_id`: only log rows older than that one (replay)."""
    def logged(*conditions):
        query = RiskCheck.select().where(RiskCheck.at <= at, *conditions)
        return query.where(RiskCheck.id < before_id) if before_id is not None else query

    def others(*conditions):  # distinct other accounts in the log
        return logged(RiskCheck.user != user_id, RiskCheck.user.is_null(False), *conditions).select(
            fn.COUNT(RiskCheck.user.distinct()))

    velocity = at - dt.timedelta(seconds=rules.velocity_window_s)
    device, network = signals.device, signals.network
    unpaid = (Seat.select(fn.COUNT(Seat.id)).join(Order)
              .where(Seat.user == user_id, Seat.status == 'released', Order.paid_at.is_null(),
                     Seat.reserved_until <= at,
                     Seat.reserved_until > at - dt.timedelta(seconds=rules.abandon_window_s)))
    last_unpaid = (Seat.select(fn.MAX(Seat.reserved_until)).join(Order)
                   .where(Seat.user == user_id, Seat.status == 'released', Order.paid_at.is_null(),
                          Seat.reserved_until <= at))
    columns = [unpaid.alias('abandoned'), last_unpaid.alias('last_abandoned')]
    if group_id is not None:
        columns.append(last_unpaid.where(Seat.group == group_id).alias('released_here'))
    if device:
        columns += [
            others(RiskCheck.device == device, RiskCheck.group == group_id, RiskCheck.action.in_(OPEN_OR_JOIN),
                   RiskCheck.decision != 'block').alias('device_in_group') if group_id is not None else None,
            others(RiskCheck.device == device,
                   RiskCheck.at > at - dt.timedelta(seconds=rules.device_window_s)).alias('device_accounts'),
            logged(RiskCheck.device == device, RiskCheck.action.in_(OPEN_OR_JOIN), RiskCheck.at > velocity)
            .select(fn.COUNT(RiskCheck.id)).alias('device_attempts'),
            logged(RiskCheck.device == device, RiskCheck.user != user_id).join(User, on=(RiskCheck.user == User.id))
            .where(User.first_paid_at <= at).select(fn.COUNT(RiskCheck.id)).alias('device_paid')]
    if network and signals.public:  # the address rule never looks at loopback or private addresses
        columns.append(others(RiskCheck.network == network, RiskCheck.at > velocity).alias('network_accounts'))
    columns += _blocks(at, user_id, signals, '')
    row = User.select(*[c for c in columns if c is not None]).where(User.id == user_id).dicts().first() or {}
    return History(
        blocklisted=_matched(row),
        released_here_ago_s=_ago(at, row.get('released_here')), abandoned=int(row.get('abandoned') or 0),
        last_abandoned_ago_s=_ago(at, row.get('last_abandoned')),
        device_accounts_in_group=int(row.get('device_in_group') or 0),
        device_accounts=int(row.get('device_accounts') or 0), device_attempts=int(row.get('device_attempts') or 0),
        network_accounts=int(row.get('network_accounts') or 0), device_paid_before=bool(row.get('device_paid')))


BLOCK_KINDS = ('user', 'device', 'network', 'ip', 'payer')


def _blocks(at: dt.datetime, user_id: int | None, signals: Signals, payer: str) -> list:
    """One scalar subquery per blocklist kind: how many entries in force at `at` match."""
    live = (RiskBlock.created_at <= at) & (RiskBlock.until.is_null() | (RiskBlock.until > at))
    values = {'user': str(user_id) if user_id else '', 'device': signals.device, 'network': signals.network,
              'ip': signals.ip, 'payer': payer}
    return [RiskBlock.select(fn.COUNT(RiskBlock.id)).where(live, RiskBlock.kind == kind, RiskBlock.value == value)
            .alias(f'block_{kind}') for kind, value in values.items() if value]


def blocklisted(at: dt.datetime, user_id: int | None, signals: Signals, payer: str = '') -> tuple[str, ...]:
    """Which blocklist kinds in force at `at` match (on their own: the payment path)."""
    columns = _blocks(at, user_id, signals, payer)
    if not columns:
        return ()
    row = RiskBlock.select(*columns).limit(1).dicts().first() or {}
    return _matched(row)


def _matched(row: dict) -> tuple[str, ...]:
    return tuple(kind for kind in BLOCK_KINDS if row.get(f'block_{kind}'))


def fill_of(group_id: int, leader_id: int, rules: RuleConfig) -> Fill:
    """How a group's paid seats were filled: fresh accounts, one payer for several seats, flagged attempts."""
    seats = list(Seat.select(Seat.user, Seat.created_at, User.created_at.alias('born')).join(User)
                 .where(Seat.group == group_id, Seat.status == 'paid', Seat.user != leader_id).dicts())
    fresh = sum(1 for s in seats if (s['created_at'] - s['born']).total_seconds() < rules.fresh_account_s)
    payers = (RiskCheck.select(RiskCheck.payer, fn.COUNT(RiskCheck.id).alias('n'))
              .where(RiskCheck.group == group_id, RiskCheck.action == 'pay', RiskCheck.payer != '')
              .group_by(RiskCheck.payer).dicts())
    flagged = [r.reasons for r in RiskCheck.select(RiskCheck.reasons)
               .where(RiskCheck.group == group_id, RiskCheck.decision == 'review')]
    reasons = tuple(dict.fromkeys(code for r in flagged for code in r.split(',') if code))
    return Fill(members=len(seats), fresh_members=fresh, most_seats_one_payer=max((p['n'] for p in payers), default=0),
                flagged=reasons)


def _ago(at: dt.datetime, then) -> int | None:
    if then is None:
        return None
    if isinstance(then, str):  # SQLite hands back an aggregate's datetime as text
        then = dt.datetime.fromisoformat(then)
    return int((at - then).total_seconds())
