"""A group's progress — status, seats paid and held, seats left, deadline, what it sells, who leads it.

Computed in one query, once per transition (inside its transaction, after its writes), and handed
to everything that shows it: pushes, live events, the API, pages, the bot, posters, share titles.
Nothing else counts a group's seats, so they can never disagree about the same moment.
"""
import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, fn

from . import errors, tiers
from .clock import to_ms
from .models import Campaign, CampaignCourse, Course, Group, Seat, User
from .prepared import Prepared


@dataclass(frozen=True)
class Progress:
    group_id: int
    campaign_id: int
    share_code: str
    status: str
    size: int
    paid: int
    reserved: int         # seats held by people paying right now ("2 人正在支付")
    deadline_at: dt.datetime | None
    course_title: str
    cover_url: str
    price_fen: int        # what a joiner pays
    list_price_fen: int   # the course's own price
    leader_nickname: str
    leader_avatar_url: str
    tiers: tuple = ()     # a tiered group's tiers (groupbuy/tiers.py); `size` is its largest
    courses: int = 1      # how many courses a member may pick from (a cross-course campaign: more than one)

    @property
    def needed(self) -> int:
        """Paid seats that make it succeed: a tiered group's smallest tier, else its size."""
        return tiers.success_size(self.size, self.tiers)

    @property
    def seats_left(self) -> int:
        return max(self.size - self.paid, 0)

    def seconds_left(self, now: dt.datetime) -> int:
        return max(int((self.deadline_at - now).total_seconds()), 0) if self.deadline_at else 0

    def joinable(self, now: dt.datetime) -> bool:
        return self.status == 'forming' and self.seats_left > 0 and self.seconds_left(now) > 0

    @property
    def version(self) -> str:
        """Changes whenever what a poster shows changes (caches key on it)."""
        deadline = to_ms(self.deadline_at) if self.deadline_at else 0
        return f'{self.status}-{self.paid}-{deadline}'


def _per_group(*columns):
    """Groups joined to their campaign, course, leader and seats, one row per group: `columns` over them."""
    return (Group.select(*columns).join(Campaign).join(Course)
            .switch(Group).join(User, on=(Group.leader == User.id), attr='leader')
            .switch(Group).join(Seat, JOIN.LEFT_OUTER, on=(Seat.group == Group.id))
            .group_by(Group.id, Campaign.id, Course.id, User.id))


def _seats(status: str):
    return fn.COUNT(Seat.id).filter(Seat.status == status)


def _extra_courses():
    return CampaignCourse.select(fn.COUNT(CampaignCourse.id)).where(CampaignCourse.campaign == Campaign.id)


def query():
    """Groups with campaign, course, leader and their seat counts: filter it, then `from_row` each."""
    return _per_group(Group, Campaign, Course, User, _seats('paid').alias('paid_count'),
                      _seats('reserved').alias('reserved_count'), _extra_courses().alias('extra_courses'))


def from_row(group: Group) -> Progress:
    campaign = group.campaign
    return Progress(
        group_id=group.id, campaign_id=campaign.id, share_code=group.share_code, status=group.status,
        size=group.size, paid=group.paid_count, reserved=group.reserved_count, deadline_at=group.deadline_at,
        course_title=campaign.course.title, cover_url=campaign.course.cover_url,
        price_fen=group.price_fen, list_price_fen=campaign.course.price_fen,
        leader_nickname=group.leader.nickname, leader_avatar_url=group.leader.avatar_url,
        tiers=tiers.parse(group.tiers), courses=1 + (group.extra_courses or 0))


def _one_group():
    """`query()` narrowed to the columns a Progress holds, as plain rows: one group's progress is read by every
    transition and group page (after a join's commit, for its live event), and making four models of ~60
    columns cost more than the statement (tests/integration/test_prepared.py: same Progress as `from_row`)."""
    return _per_group(Group.id, Group.campaign, Group.share_code, Group.status, Group.size, _seats('paid'),
                      _seats('reserved'), Group.deadline_at, Course.title, Course.cover_url, Group.price_fen,
                      Course.price_fen, User.nickname, User.avatar_url, Group.tiers, _extra_courses())


def _from_tuple(row) -> Progress:
    (group_id, campaign_id, share_code, status, size, paid, reserved, deadline_at, title, cover_url, price_fen,
     list_price_fen, nickname, avatar_url, tiers_json, extra_courses) = row
    return Progress(group_id=group_id, campaign_id=campaign_id, share_code=share_code, status=status, size=size,
                    paid=paid, reserved=reserved, deadline_at=deadline_at,
                    course_title=title, cover_url=cover_url, price_fen=price_fen, list_price_fen=list_price_fen,
                    leader_nickname=nickname, leader_avatar_url=avatar_url, tiers=tiers.parse(tiers_json),
                    courses=1 + (extra_courses or 0))


# what every transition of a group and every group page reads: built once (groupbuy/prepared.py)
_BY_ID = Prepared(lambda group_id: _one_group().where(Group.id == group_id).limit(1).tuples(), group_id=int)
_BY_CODE = Prepared(lambda share_code: _one_group().where(Group.share_code == share_code).limit(1).tuples(),
                    share_code=str)


def progress_of_group(group_id: int) -> Progress:
    """Raises NotFound."""
    return _one(_BY_ID.first(group_id=group_id))


def progress_of(share_code: str) -> Progress:
    """Raises NotFound."""
    return _one(_BY_CODE.first(share_code=share_code))


def _one(row) -> Progress:
    if row is None:
        raise errors.NotFound('no group with that share code')
    return _from_tuple(row)
