"""The facts the rules decide on, read from the decision log, the seats and the blocklist as they stood at a
moment: `before` for an open or a join (live: now; replay: a recorded check's time, counting only what was
logged before it), `fill_of` for a group about to succeed. Live and replay call the same functions, so a
recorded log replayed under the same rules gives the same decisions."""
import datetime as dt

from peewee import fn

from ..models import Order, RiskBlock, RiskCheck, Seat, User, db
from .rules import Fill, History, RuleConfig

from .signals import Signals

OPEN_OR_JOIN = ('open', 'join')


def before(at: dt.datetime, action: str, user_id: int, group_id: int | None, signals: Signals, rules: RuleConfig,
           before_id: int | None = None) -> History:
    """History just before an attempt. `before_id`: only log rows older than that one (replay). One statement;
    its SQL is built once per shape (which facts apply) and reused: on the join's hot path, building a
    twelve-subquery statement cost peewee more than running it."""
    values = {'at': at, 'abandon_from': at - dt.timedelta(seconds=rules.abandon_window_s),
              'velocity_from': at - dt.timedelta(seconds=rules.velocity_window_s),
              'device_from': at - dt.timedelta(seconds=rules.device_window_s), 'user': user_id,
              'user_text': str(user_id), 'group': group_id, 'device': signals.device, 'network': signals.network,
              'ip': signals.ip, 'before_id': before_id}
    shape = (type(db.obj).__name__, group_id is not None, bool(signals.device),
             bool(signals.network and signals.public), bool(signals.network), bool(signals.ip), before_id is not None)
    sql, slots = _TEMPLATES.get(shape) or _compile(shape)
    cursor = db.execute_sql(sql, [values[slot] if isinstance(slot, _Slot) else slot for slot in slots])
    found = cursor.fetchone()
    row = dict(zip((d[0] for d in cursor.description), found)) if found else {}
    return History(
        blocklisted=_matched(row),
        released_here_ago_s=_ago(at, row.get('released_here')), abandoned=int(row.get('abandoned') or 0),
        last_abandoned_ago_s=_ago(at, row.get('last_abandoned')),
        device_accounts_in_group=int(row.get('device_in_group') or 0),
        device_accounts=int(row.get('device_accounts') or 0), device_attempts=int(row.get('device_attempts') or 0),
        network_accounts=int(row.get('network_accounts') or 0), device_paid_before=bool(row.get('device_paid')))


class _Slot(str):
    """A parameter of a compiled history statement, filled per call by name."""


_TEMPLATES: dict[tuple, tuple[str, list]] = {}
# Values nothing real can hold, so each parameter of the built statement can be told apart by value.
_SENTINELS = {'at': dt.datetime(1901, 1, 1, 0, 0, 1), 'abandon_from': dt.datetime(1901, 1, 1, 0, 0, 2),
              'velocity_from': dt.datetime(1901, 1, 1, 0, 0, 3), 'device_from': dt.datetime(1901, 1, 1, 0, 0, 4),
              'user': -900001, 'user_text': '-900001', 'group': -900002, 'device': '\x01device',
              'network': '\x01network', 'ip': '\x01ip', 'before_id': -900003}


_LEAKS = {value for value in _SENTINELS.values() if not isinstance(value, dt.datetime)} | {
    str(value) for value in _SENTINELS.values()}


def _compile(shape: tuple) -> tuple[str, list]:
    _, has_group, has_device, public_network, has_network, has_ip, replaying = shape
    v = _SENTINELS
    signals = Signals(ip=v['ip'] if has_ip else '', device=v['device'] if has_device else '')
    query = _statement(v, has_group, has_device, public_network, has_network, has_ip, replaying, signals)
    sql, params = query.sql()
    by_value = {(type(value), value): _Slot(name) for name, value in v.items()}
    by_text = {(str, str(value)): _Slot(name) for name, value in v.items() if isinstance(value, dt.datetime)}
    slots = [by_value.get((type(p), p)) or by_text.get((type(p), p)) or p for p in params]
    leaked = [p for p in slots if not isinstance(p, _Slot) and (isinstance(p, dt.datetime) or p in _LEAKS)]
    if leaked:  # a value peewee turned into something we cannot recognise: never run with a sentinel in it
        raise RuntimeError(f'history statement parameters not mapped: {leaked!r}')
    _TEMPLATES[shape] = (sql, slots)
    return _TEMPLATES[shape]


def _statement(v: dict, has_group, has_device, public_network, has_network, has_ip, replaying, signals: Signals):
    """The history statement for one shape, on the values in `v` (sentinels when compiling)."""
    at, user_id = v['at'], v['user']

    def logged(*conditions):
        query = RiskCheck.select().where(RiskCheck.at <= at, *conditions)
        return query.where(RiskCheck.id < v['before_id']) if replaying else query

    def others(*conditions):  # distinct other accounts in the log
        return logged(RiskCheck.user != user_id, RiskCheck.user.is_null(False), *conditions).select(
            fn.COUNT(RiskCheck.user.distinct()))

    unpaid = (Seat.select(fn.COUNT(Seat.id)).join(Order)
              .where(Seat.user == user_id, Seat.status == 'released', Order.paid_at.is_null(),
                     Seat.reserved_until <= at, Seat.reserved_until > v['abandon_from']))
    last_unpaid = (Seat.select(fn.MAX(Seat.reserved_until)).join(Order)
                   .where(Seat.user == user_id, Seat.status == 'released', Order.paid_at.is_null(),
                          Seat.reserved_until <= at))
    columns = [unpaid.alias('abandoned'), last_unpaid.alias('last_abandoned')]
    if has_group:
        columns.append(last_unpaid.where(Seat.group == v['group']).alias('released_here'))
    if has_device:
        device = v['device']
        if has_group:
            columns.append(others(RiskCheck.device == device, RiskCheck.group == v['group'],
                                  RiskCheck.action.in_(OPEN_OR_JOIN), RiskCheck.decision != 'block')
                           .alias('device_in_group'))
        columns += [
            others(RiskCheck.device == device, RiskCheck.at > v['device_from']).alias('device_accounts'),
            logged(RiskCheck.device == device, RiskCheck.action.in_(OPEN_OR_JOIN), RiskCheck.at > v['velocity_from'])
            .select(fn.COUNT(RiskCheck.id)).alias('device_attempts'),
            logged(RiskCheck.device == device, RiskCheck.user != user_id).join(User, on=(RiskCheck.user == User.id))
            .where(User.first_paid_at <= at).select(fn.COUNT(RiskCheck.id)).alias('device_paid')]
    if public_network:  # the address rule never looks at loopback or private addresses
        columns.append(others(RiskCheck.network == v['network'], RiskCheck.at > v['velocity_from'])
                       .alias('network_accounts'))
    block_values = {'user': v['user_text'], 'device': v['device'] if has_device else '',
                    'network': v['network'] if has_network else '', 'ip': v['ip'] if has_ip else '', 'payer': ''}
    columns += _block_columns(at, block_values)
    return User.select(*columns).where(User.id == user_id).limit(1)


BLOCK_KINDS = ('user', 'device', 'network', 'ip', 'payer')


def _block_columns(at: dt.datetime, values: dict) -> list:
    """One scalar subquery per blocklist kind with a value: how many entries in force at `at` match."""
    live = (RiskBlock.created_at <= at) & (RiskBlock.until.is_null() | (RiskBlock.until > at))
    return [RiskBlock.select(fn.COUNT(RiskBlock.id)).where(live, RiskBlock.kind == kind, RiskBlock.value == value)
            .alias(f'block_{kind}') for kind, value in values.items() if value]


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
