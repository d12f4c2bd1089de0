"""The operator console's numbers: what group-buying did over a range of days, for every campaign, one
campaign or one course. Each number is defined once, here (`DEFINITIONS`, and beside the query that
counts it); the console, its CSV exports and README's table all read these.

Days are Beijing days (Asia/Shanghai); stored times are naive UTC. Which moment puts a fact in a day:
- a group is *opened* when its leader's payment is recorded (the leader's `Order.paid_at`): it formed;
- a group is *decided* when it ends succeeded or failed (`Group.closed_at`): at once when its last seat is
  paid, else at its deadline. Pending, forming and cancelled groups are undecided;
- a payment counts at `Order.paid_at`, a refund when WeChat confirmed it (`Refund.succeeded_at`), a
  newcomer when their account was created (their `user_registered` row).
So a range can hold a group's opening and not its end, or its end and not its opening: every count is of
what happened inside the range. A rate with nothing to divide by is None (null in JSON, empty in CSV).

Counts are SQL aggregates (a handful of queries, none per group); where a number needs arithmetic on
times (time to fill, the nudge matching) the rows come back in one query and Python does the sums, so
SQLite and PostgreSQL give the same answer.
"""
import csv
import datetime as dt
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass

from peewee import JOIN, SQL, Case, PostgresqlDatabase, fn

from . import errors
from .models import DECIDED_GROUP, OPENED_GROUP, Campaign, Course, Event, Group, Order, Refund, Seat, User, db
from .models import LiveRoom, RoomVisit  # warm-up live rooms: room_viewers
from .wording import BEIJING, time_left

_BEIJING_OFFSET_S = int(BEIJING.utcoffset(dt.datetime(2026, 1, 1)).total_seconds())  # UTC+8 all year since 1991

DEFINITIONS = {
    'groups_opened': '开团数: groups whose leader paid (they formed), counted on the day of the leader\'s payment.',
    'groups_forming': 'Groups opened in the range that are still forming now.',
    'groups_succeeded': 'Groups that succeeded in the range (closed_at): filled before the deadline, or at the '
                        'deadline by the auto-complete ratio.',
    'groups_failed': 'Groups that failed at their deadline in the range (closed_at).',
    'groups_virtual': '模拟成团: succeeded groups with fewer paid seats than their size (the auto-complete ratio).',
    'success_rate': '成团率: succeeded ÷ (succeeded + failed), over groups decided in the range; null when none.',
    'real_success_rate': '成团率 with virtual successes counted as failures: (succeeded − virtual) ÷ '
                         '(succeeded + failed).',
    'paid_orders': 'Group-buy orders (leaders\' and members\') paid in the range (paid_at), whatever happened next; a free leader\'s seat (0 fen) is no payment.',
    'paid_fen': 'Money those orders brought in.',
    'avg_order_fen': '参团客单价: paid_fen ÷ paid_orders, rounded half up to a fen; null when no order was paid.',
    'refunds': 'Refunds of group-buy orders WeChat confirmed in the range (succeeded_at).',
    'refunded_fen': 'Money those refunds returned.',
    'net_revenue_fen': 'paid_fen − refunded_fen: money in minus money returned in the range (refunds still in '
                       'flight are not yet subtracted).',
    'newcomers': 'Accounts created in the range whose first door was a shared group\'s page or card.',
    'viral_coefficient': '病毒传播系数: newcomers ÷ groups_opened; null when no group opened.',
}
COUNTS = ('groups_opened', 'groups_forming', 'groups_succeeded', 'groups_failed', 'groups_virtual', 'paid_orders',
          'paid_fen', 'refunds', 'refunded_fen', 'newcomers')
METRICS = ('groups_opened', 'groups_forming', 'groups_succeeded', 'groups_failed', 'groups_virtual', 'success_rate',
           'real_success_rate', 'paid_orders', 'paid_fen', 'avg_order_fen', 'refunds', 'refunded_fen',
           'net_revenue_fen', 'newcomers', 'viral_coefficient')


@dataclass(frozen=True)
class Scope:
    """Which groups and which days: one campaign, one course or all; Beijing dates, both ends included,
    either end open."""
    campaign_id: int | None = None
    course_id: int | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    def filters(self, moment) -> list:
        """Conditions for a query that joins Group and Campaign: in scope, `moment` inside the range."""
        found = [moment.is_null(False)]
        if self.first_day is not None:
            found.append(moment >= _utc_midnight(self.first_day))
        if self.last_day is not None:
            found.append(moment < _utc_midnight(self.last_day + dt.timedelta(days=1)))
        if self.campaign_id is not None:
            found.append(Group.campaign == self.campaign_id)
        if self.course_id is not None:
            found.append(Campaign.course == self.course_id)
        return found

    def as_json(self) -> dict:
        return {'campaign_id': self.campaign_id, 'course_id': self.course_id, 'timezone': str(BEIJING),
                'from': _iso(self.first_day), 'to': _iso(self.last_day)}


# --- the counts: one aggregate query each, grouped by day, campaign or course ---

def _opened_groups(scope: Scope, *columns):
    """Groups opened in the range: their leader's seat is paid and its payment recorded in the range."""
    return (Group.select(*columns)
            .join(Seat, on=(Seat.group == Group.id) & (Seat.role == 'leader') & (Seat.status == 'paid'))
            .join(Order, on=(Seat.order == Order.id))
            .switch(Group).join(Campaign)
            .where(Group.status.in_(OPENED_GROUP), *scope.filters(Order.paid_at)))


def _opened(by: str, scope: Scope):
    """groups_opened, groups_forming (of those, still forming now)."""
    return (_opened_groups(scope, _key(by, Order.paid_at), fn.COUNT(Group.id),
                           fn.COUNT(Group.id).filter(Group.status == 'forming'))
            .group_by(SQL('1')).tuples())


def _paid_seats():
    """A group's paid seats (correlated: reads the outer query's Group)."""
    return Seat.select(fn.COUNT(Seat.id)).where((Seat.group == Group.id) & (Seat.status == 'paid'))


def _decided(by: str, scope: Scope):
    """groups_succeeded, groups_failed, groups_virtual (succeeded with fewer paid seats than the size; a tiered
    group's size is its largest tier, and ending between its tiers is a real success)."""
    succeeded = Group.status == 'succeeded'
    return (Group.select(_key(by, Group.closed_at), fn.COUNT(Group.id).filter(succeeded),
                         fn.COUNT(Group.id).filter(Group.status == 'failed'),
                         fn.SUM(Case(None, [(succeeded & Group.tiers.is_null() & (_paid_seats() < Group.size), 1)], 0)))
            .join(Campaign)
            .where(Group.status.in_(DECIDED_GROUP), *scope.filters(Group.closed_at))
            .group_by(SQL('1')).tuples())


def _payments(by: str, scope: Scope):
    """paid_orders, paid_fen: group-buy orders whose payment was recorded in the range (a free leader's seat,
    0 fen, is no payment)."""
    return (Order.select(_key(by, Order.paid_at), fn.COUNT(Order.id), fn.SUM(Order.amount_fen))
            .join(Group, on=(Order.group == Group.id)).join(Campaign)
            .where(Order.kind == 'group_buy', Order.amount_fen > 0, *scope.filters(Order.paid_at))
            .group_by(SQL('1')).tuples())


def _refunds(by: str, scope: Scope):
    """refunds, refunded_fen: refunds of group-buy orders WeChat confirmed in the range."""
    return (Refund.select(_key(by, Refund.succeeded_at), fn.COUNT(Refund.id), fn.SUM(Refund.amount_fen))
            .join(Order).join(Group, on=(Order.group == Group.id)).join(Campaign)
            .where(Refund.status == 'succeeded', Order.kind == 'group_buy', *scope.filters(Refund.succeeded_at))
            .group_by(SQL('1')).tuples())


def _newcomers(by: str, scope: Scope):
    """newcomers: `user_registered` rows naming a group (the share that was the account's first door)."""
    return (Event.select(_key(by, Event.at), fn.COUNT(Event.id))
            .join(Group, on=(Event.group == Group.id)).join(Campaign)
            .where(Event.kind == 'user_registered', *scope.filters(Event.at))
            .group_by(SQL('1')).tuples())


_QUERIES = ((('groups_opened', 'groups_forming'), _opened),
            (('groups_succeeded', 'groups_failed', 'groups_virtual'), _decided),
            (('paid_orders', 'paid_fen'), _payments), (('refunds', 'refunded_fen'), _refunds),
            (('newcomers',), _newcomers))


def _counts(by: str, scope: Scope) -> dict:
    """{day | campaign id | course id: {count: n}} for every key that has any."""
    found = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for names, query in _QUERIES:
        for key, *values in query(by, scope):
            found[_day_key(key) if by == 'day' else key].update(zip(names, (int(v or 0) for v in values)))
    return found


def _key(by: str, moment):
    if by == 'campaign':
        return Group.campaign
    if by == 'course':
        return Campaign.course
    return _beijing_day(moment)


def _beijing_day(moment):
    """The Beijing date of a naive UTC column, in SQL (each database spells date arithmetic its own way)."""
    if isinstance(db.obj, PostgresqlDatabase):
        day = fn.DATE(moment + SQL(f"INTERVAL '{_BEIJING_OFFSET_S} seconds'"))
    else:
        day = fn.DATE(moment, f'+{_BEIJING_OFFSET_S} seconds')
    return day.coerce(False)  # a date, not the column's datetime


def metrics(counts: dict) -> dict:
    """The numbers of `DEFINITIONS` from the counts, in the order of `METRICS`."""
    c = counts
    decided = c['groups_succeeded'] + c['groups_failed']
    derived = {'success_rate': _ratio(c['groups_succeeded'], decided),
               'real_success_rate': _ratio(c['groups_succeeded'] - c['groups_virtual'], decided),
               'avg_order_fen': (2 * c['paid_fen'] + c['paid_orders']) // (2 * c['paid_orders'])
               if c['paid_orders'] else None,
               'net_revenue_fen': c['paid_fen'] - c['refunded_fen'],
               'viral_coefficient': _ratio(c['newcomers'], c['groups_opened'])}
    return {name: derived[name] if name in derived else c[name] for name in METRICS}


# --- the tables ---

def summary(scope: Scope) -> dict:
    """Every metric over the whole range, and `days`: the same per Beijing day, every day from the first
    to the last of the range (an open end: the first or last day with anything), zero days included.
    The totals are the sums of the days' counts."""
    per_day = _counts('day', scope)
    zero = dict.fromkeys(COUNTS, 0)
    total = {name: sum(counts[name] for counts in per_day.values()) for name in COUNTS}
    days = [{'day': day, **metrics(per_day.get(day, zero))} for day in _every_day(scope, per_day)]
    return {**metrics(total), 'days': days}


def campaigns(scope: Scope) -> list[dict]:
    """Every metric per campaign with anything in the range, by campaign id."""
    per_campaign = _counts('campaign', scope)
    names = dict(Campaign.select(Campaign.id, Course.title).join(Course)
                 .where(Campaign.id.in_(list(per_campaign) or [0])).tuples())
    return [{'campaign_id': cid, 'course': names.get(cid, ''), **metrics(per_campaign[cid])}
            for cid in sorted(per_campaign)]


def courses_ranked(scope: Scope) -> list[dict]:
    """Every metric per course, best 成团率 first (then more groups decided, then course id); courses
    with no group decided in the range come last."""
    per_course = _counts('course', scope)
    titles = dict(Course.select(Course.id, Course.title).where(Course.id.in_(list(per_course) or [0])).tuples())
    rows = [{'course_id': cid, 'course': titles.get(cid, ''), **metrics(per_course[cid])} for cid in per_course]
    rows.sort(key=lambda r: (r['success_rate'] is None, -(r['success_rate'] or 0),
                             -(r['groups_succeeded'] + r['groups_failed']), r['course_id']))
    return [{'rank': i, **row} for i, row in enumerate(rows, 1)]


FILL_BUCKETS = ((0, 300, '5分钟内'), (300, 1800, '5–30分钟'), (1800, 3600, '30分钟–1小时'),
                (3600, 3 * 3600, '1–3小时'), (3 * 3600, 6 * 3600, '3–6小时'), (6 * 3600, 12 * 3600, '6–12小时'),
                (12 * 3600, 24 * 3600, '12–24小时'), (24 * 3600, None, '24小时以上'))


def fill_bucket(seconds: float) -> str:
    """The FILL_BUCKETS label of a time to fill: from_s ≤ seconds < to_s."""
    return next(label for start, end, label in FILL_BUCKETS if end is None or seconds < end)


def time_to_fill(scope: Scope) -> list[dict]:
    """How long filling took: for groups that filled (succeeded with every seat paid) and so were decided
    in the range, the time from the leader's payment to the last seat's payment, in FILL_BUCKETS. One
    row per bucket, empty ones too; `share` of the filled groups (null when none filled)."""
    leader_paid = fn.MIN(Order.paid_at).filter(Seat.role == 'leader')
    filled = (Group.select(leader_paid, fn.MAX(Order.paid_at))
              .join(Seat, on=(Seat.group == Group.id) & (Seat.status == 'paid'))
              .join(Order, on=(Seat.order == Order.id))
              .switch(Group).join(Campaign)
              .where(Group.status == 'succeeded', *scope.filters(Group.closed_at))
              .group_by(Group.id, Group.size)
              .having(fn.COUNT(Seat.id) >= Group.size).tuples())
    counted = Counter(fill_bucket((_moment(last) - _moment(first)).total_seconds())
                      for first, last in filled if first is not None)
    total = sum(counted.values())
    return [{'bucket': label, 'from_s': start, 'to_s': end, 'groups': counted[label],
             'share': _ratio(counted[label], total)} for start, end, label in FILL_BUCKETS]


FUNNEL = (('shared', '分享'), ('clicked', '点击'), ('joined', '参团'), ('paid', '支付'))


def funnel(scope: Scope) -> list[dict]:
    """Share → click → join → pay, for the groups opened in the range (whenever each step happened):
    shared: share cards taken (`group_shared`, once per sharer and group per 30 minutes); clicked:
    arrivals through a share (`share_clicked`, once per visitor per 30 minutes); joined: people who took
    a member's seat (each person once per group); paid: members whose payment kept their seat. Steps are
    counted each on its own, not followed person by person: a join need not come through a counted click,
    so a step can exceed the one before. `of_previous`, `of_first`: null when that step is 0."""
    cohort = _opened_groups(scope, Group.id)
    events = dict(Event.select(Event.kind, fn.COUNT(Event.id))
                  .where(Event.kind.in_(('group_shared', 'share_clicked')), Event.group.in_(cohort))
                  .group_by(Event.kind).tuples())
    members = (Seat.role == 'member') & Seat.group.in_(cohort)
    counts = {'shared': events.get('group_shared', 0), 'clicked': events.get('share_clicked', 0),
              'joined': Seat.select(Seat.group, Seat.user).where(members).distinct().count(),
              'paid': Seat.select().where(members & (Seat.status == 'paid')).count()}
    first, previous, rows = counts['shared'], None, []
    for step, label in FUNNEL:
        rows.append({'step': step, 'label': label, 'count': counts[step],
                     'of_previous': None if previous is None else _ratio(counts[step], previous),
                     'of_first': _ratio(counts[step], first)})
        previous = counts[step]
    return rows


NOT_ENOUGH = 'not enough comparable groups'


def nudge_effect(scope: Scope) -> list[dict]:
    """成团率 of nudged groups against comparable groups that were not nudged, over groups decided in the range.

    A nudged group has at least one `nudge_sent` row; its stratum is its first nudge: time left = that
    nudge's offset (seconds before the deadline), seats short = size − seats paid by that moment. A group
    never nudged is comparable in a stratum (offset o, short s) when, o seconds before its own deadline, it
    had formed (its leader had paid) and was short by exactly s (s ≥ 1: not yet full). One row per stratum
    that has nudged groups, then the pooled row (合计): the strata that have comparable groups, pooled (a comparable group
    counts once in each stratum it matches). A stratum without comparable groups says NOT_ENOUGH and its
    comparable rate is null."""
    decided = (Group.select(Group.id, Group.status, Group.size, Group.deadline_at).join(Campaign)
               .where(Group.status.in_(DECIDED_GROUP), *scope.filters(Group.closed_at)))
    groups = {gid: (status == 'succeeded', size, _moment(deadline)) for gid, status, size, deadline in decided.tuples()}
    ids = decided.select(Group.id)
    paid, leader_paid = defaultdict(list), {}
    for gid, role, paid_at in (Seat.select(Seat.group, Seat.role, Order.paid_at).join(Order)
                               .where(Seat.status == 'paid', Seat.group.in_(ids)).tuples()):
        paid[gid].append(_moment(paid_at))
        if role == 'leader':
            leader_paid[gid] = _moment(paid_at)
    first_nudge = {}
    for gid, props in Event.select(Event.group, Event.props).where(Event.kind == 'nudge_sent',
                                                                     Event.group.in_(ids)).tuples():
        first_nudge[gid] = max(first_nudge.get(gid, 0), int(json.loads(props).get('offset_s', 0)))

    def before_deadline(gid: int, offset: int) -> tuple[bool, int]:
        """`offset` seconds before the group's deadline: had it formed, and how many seats was it short?"""
        _, size, deadline = groups[gid]
        moment = deadline - dt.timedelta(seconds=offset)
        return gid in leader_paid and leader_paid[gid] <= moment, size - sum(1 for t in paid[gid] if t <= moment)

    nudged, comparable = defaultdict(list), defaultdict(list)
    for gid, offset in first_nudge.items():
        nudged[(offset, before_deadline(gid, offset)[1])].append(groups[gid][0])
    for offset in set(first_nudge.values()):
        for gid in groups.keys() - first_nudge.keys():
            formed, short = before_deadline(gid, offset)
            if formed and short >= 1:
                comparable[(offset, short)].append(groups[gid][0])
    strata = sorted(nudged, key=lambda k: (-k[0], k[1]))
    rows = [_nudge_row(f'剩余{time_left(o)} · 差{s}人', o, s, nudged[(o, s)], comparable.get((o, s), []))
            for o, s in strata]
    matched = [k for k in strata if comparable.get(k)]
    rows.append(_nudge_row('合计', None, None, [x for k in matched for x in nudged[k]],
                           [x for k in matched for x in comparable[k]]))
    return rows


def _nudge_row(stratum, offset, short, nudged: list[bool], comparable: list[bool]) -> dict:
    nudged_rate, comparable_rate = _ratio(sum(nudged), len(nudged)), _ratio(sum(comparable), len(comparable))
    return {'stratum': stratum, 'time_left_s': offset, 'seats_short': short,
            'nudged_groups': len(nudged), 'nudged_succeeded': sum(nudged), 'nudged_success_rate': nudged_rate,
            'comparable_groups': len(comparable), 'comparable_succeeded': sum(comparable),
            'comparable_success_rate': comparable_rate,
            'difference': None if nudged_rate is None or comparable_rate is None
            else round(nudged_rate - comparable_rate, 4),
            'note': '' if comparable else NOT_ENOUGH}


def best_leaders(scope: Scope, limit: int = 20) -> list[dict]:
    """Leaders by what their groups brought: members (paid member seats in the groups they opened in the
    range), then new users (newcomers created in the range through a share of any group they led), then
    groups succeeded; the first `limit`."""
    member = Seat.alias()
    led = (_opened_groups(scope, Group.leader, fn.COUNT(Group.id.distinct()),
                          fn.COUNT(Group.id.distinct()).filter(Group.status == 'succeeded'), fn.COUNT(member.id))
           .join(member, JOIN.LEFT_OUTER, on=(member.group == Group.id) & (member.role == 'member')
                 & (member.status == 'paid'))
           .group_by(Group.leader).tuples())
    rows = defaultdict(lambda: {'groups_opened': 0, 'groups_succeeded': 0, 'members_brought': 0,
                                'new_users_brought': 0})
    for leader, opened, succeeded, members in led:
        rows[leader].update(groups_opened=opened, groups_succeeded=succeeded, members_brought=members)
    for leader, newcomers in (Event.select(Group.leader, fn.COUNT(Event.id))
                              .join(Group, on=(Event.group == Group.id)).join(Campaign)
                              .where(Event.kind == 'user_registered', *scope.filters(Event.at))
                              .group_by(Group.leader).tuples()):
        rows[leader]['new_users_brought'] = newcomers
    best = sorted(rows, key=lambda u: (-rows[u]['members_brought'], -rows[u]['new_users_brought'],
                                       -rows[u]['groups_succeeded'], u))[:limit]
    names = dict(User.select(User.id, User.nickname).where(User.id.in_(best or [0])).tuples())
    return [{'rank': i, 'leader_id': u, 'nickname': names.get(u, ''), **rows[u]} for i, u in enumerate(best, 1)]


def room_viewers(scope: Scope) -> list[dict]:
    """直播间观众的成团率: 成团率 of warm-up live room viewers against non-viewers, one row per campaign that has a
    room, over the paid orders of groups decided in the range. An order is a viewer's when its payer had visited
    the room (their first visit, signed in: `RoomVisit.first_at`) at or before paying (`Order.paid_at`), else a
    non-viewer's; each side's rate = its orders in succeeded groups ÷ its orders in decided groups (null when the
    side has none); `difference` = viewers' − non-viewers'. One aggregate query."""
    watched = fn.EXISTS(RoomVisit.select(SQL('1')).where(
        (RoomVisit.room == LiveRoom.id) & (RoomVisit.user == Seat.user) & (RoomVisit.first_at <= Order.paid_at)))
    rows = (Seat.select(Group.campaign, Course.title, Group.status, watched, fn.COUNT(Seat.id))
            .join(Order, on=(Seat.order == Order.id))
            .switch(Seat).join(Group, on=(Seat.group == Group.id)).join(Campaign).join(Course)
            .join(LiveRoom, on=(LiveRoom.campaign == Campaign.id))
            .where(Seat.status == 'paid', Group.status.in_(DECIDED_GROUP), *scope.filters(Group.closed_at))
            .group_by(Group.campaign, Course.title, Group.status, SQL('4')).tuples())
    per = defaultdict(lambda: {'course': '', 'viewer_orders': 0, 'viewer_succeeded': 0, 'other_orders': 0,
                               'other_succeeded': 0})
    for campaign_id, title, status, viewer, orders in rows:
        side = 'viewer' if viewer else 'other'
        row = per[campaign_id]
        row['course'] = title
        row[f'{side}_orders'] += orders
        if status == 'succeeded':
            row[f'{side}_succeeded'] += orders
    out = []
    for campaign_id in sorted(per):
        row = per[campaign_id]
        viewers = _ratio(row['viewer_succeeded'], row['viewer_orders'])
        others = _ratio(row['other_succeeded'], row['other_orders'])
        out.append({'campaign_id': campaign_id, **row, 'viewer_success_rate': viewers, 'other_success_rate': others,
                    'difference': None if viewers is None or others is None else round(viewers - others, 4)})
    return out


# --- what the console shows and exports ---

TABLES = {
    'summary': (lambda scope: [{k: v for k, v in summary(scope).items() if k != 'days'}], METRICS),
    'days': (lambda scope: summary(scope)['days'], ('day',) + METRICS),
    'campaigns': (campaigns, ('campaign_id', 'course') + METRICS),
    'courses': (courses_ranked, ('rank', 'course_id', 'course') + METRICS),
    'time_to_fill': (time_to_fill, ('bucket', 'from_s', 'to_s', 'groups', 'share')),
    'funnel': (funnel, ('step', 'label', 'count', 'of_previous', 'of_first')),
    'nudge_effect': (nudge_effect, ('stratum', 'time_left_s', 'seats_short', 'nudged_groups', 'nudged_succeeded',
                                    'nudged_success_rate', 'comparable_groups', 'comparable_succeeded',
                                    'comparable_success_rate', 'difference', 'note')),
    'leaders': (best_leaders, ('rank', 'leader_id', 'nickname', 'groups_opened', 'groups_succeeded',
                               'members_brought', 'new_users_brought')),
    'room_viewers': (room_viewers, ('campaign_id', 'course', 'viewer_orders', 'viewer_succeeded', 'viewer_success_rate',
                                    'other_orders', 'other_succeeded', 'other_success_rate', 'difference')),
}


def report(scope: Scope) -> dict:
    """Everything the console's numbers page shows: the summary with its days, and every other table."""
    return {'scope': scope.as_json(), **summary(scope),
            **{name: rows(scope) for name, (rows, _) in TABLES.items() if name not in ('summary', 'days')},
            'definitions': DEFINITIONS}


def table(name: str, scope: Scope) -> tuple[list[dict], tuple[str, ...]]:
    """One table's rows and columns (what its CSV holds). Raises NotFound for a name not in TABLES."""
    if name not in TABLES:
        raise errors.NotFound(f'no table {name!r}; there are {", ".join(TABLES)}')
    rows, columns = TABLES[name]
    return rows(scope), columns


def to_csv(rows: list[dict], columns) -> str:
    """The rows as CSV with a header line; None is an empty cell. Text a spreadsheet would run as a
    formula (a nickname like '=HYPERLINK(...)') is prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _cell(value):
    if value is None:
        return ''
    if isinstance(value, str) and value[:1] in ('=', '+', '-', '@', '\t', '\r'):
        return "'" + value
    return value


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _utc_midnight(day: dt.date) -> dt.datetime:
    """The naive UTC moment a Beijing day starts."""
    return dt.datetime.combine(day, dt.time(), BEIJING).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _every_day(scope: Scope, per_day: dict) -> list[str]:
    """The range's days; an open end stops at the first or last day that has anything."""
    found = sorted(per_day)
    first = scope.first_day or (dt.date.fromisoformat(found[0]) if found else scope.last_day)
    last = scope.last_day or (dt.date.fromisoformat(found[-1]) if found else scope.first_day)
    if first is None or last is None:
        return []
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _day_key(value) -> str:
    """SQLite answers DATE() with text, PostgreSQL with a date: both become 'YYYY-MM-DD'."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def _moment(value) -> dt.datetime | None:
    """A time from an aggregate (SQLite may answer MIN/MAX of a datetime column with its text)."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
