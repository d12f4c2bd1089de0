"""What a share says about a group — the card's title, seats and time left, the price — in the
words every door uses (mini-program card, H5 page, poster, the bot), so they never disagree. Prices,
time left and dates are written by groupbuy/wording.py, as in pushes."""
import datetime as dt
from dataclasses import dataclass

from peewee import fn

from . import errors
from .clock import to_ms
from .groups import find_group
from .models import Campaign, Course, Group, Seat, User
from .wording import time_left, yuan

LIVE = ('pending', 'forming')
QR_MAX_S = 30 * 24 * 3600  # WeChat's longest temporary QR code


@dataclass(frozen=True)
class GroupProgress:
    group_id: int
    campaign_id: int
    share_code: str
    status: str
    course_title: str
    cover_url: str
    price_fen: int        # what a joiner pays
    list_price_fen: int   # the course's own price
    size: int
    paid: int
    deadline_at: dt.datetime | None
    leader_nickname: str
    leader_avatar_url: str

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


def progress_of(share_code: str) -> GroupProgress:
    """Raises NotFound."""
    group = find_group(share_code)
    return _progress(group, User.get_by_id(group.leader_id), _paid_counts([group.id]).get(group.id, 0))


def share_title(p: GroupProgress, now: dt.datetime) -> str:
    """The card title: '还差2人 ¥99 拼《Python入门》' while there is room, else what happened."""
    if p.joinable(now):
        return f'还差{p.seats_left}人 ¥{yuan(p.price_fen)} 拼《{p.course_title}》'
    if p.status == 'pending':
        return f'¥{yuan(p.price_fen)} 一起拼《{p.course_title}》'
    if p.status == 'succeeded':
        return f'已成团 · ¥{yuan(p.price_fen)} 拼《{p.course_title}》'
    return f'拼团已结束 · 《{p.course_title}》'


def status_line(p: GroupProgress, now: dt.datetime) -> str:
    """One line of progress: '还差2人成团，剩 3小时12分钟'."""
    if p.joinable(now):
        return f'还差{p.seats_left}人成团，剩 {time_left(p.seconds_left(now))}'
    return {'pending': '等团长付款后开团', 'succeeded': '已成团，课程已开通'}.get(p.status, '拼团已结束')


def miniapp_path(page: str, share_code: str, ref: str | None) -> str:
    """The mini-program page of a group, with the sharer: 'pages/group/index?code=..&from=..'."""
    return f'{page}?code={share_code}' + (f'&from={ref}' if ref else '')


def live_groups_of(user_id: int, now: dt.datetime, limit: int = 10) -> list[GroupProgress]:
    """Groups the user is in (a reserved or paid seat) that are still open, soonest deadline first."""
    groups = list(Group.select(Group, Campaign, Course).join(Campaign).join(Course).switch(Group)
                  .join(Seat, on=(Seat.group == Group.id))
                  .where(Seat.user == user_id, Seat.status != 'released', Group.status.in_(LIVE))
                  .order_by(Group.deadline_at.asc(nulls='LAST'), Group.id).limit(limit))
    leaders = {u.id: u for u in User.select().where(User.id.in_([g.leader_id for g in groups]))}
    paid = _paid_counts([g.id for g in groups])
    return [_progress(g, leaders[g.leader_id], paid.get(g.id, 0)) for g in groups]


def qr_lifetime_s(p: GroupProgress, now: dt.datetime) -> int:
    """How long an official-account QR code for this group should live: until its deadline (a day
    while the leader has not paid). Raises GroupClosed for a finished group."""
    if p.status not in LIVE or (p.status == 'forming' and p.seconds_left(now) <= 0):
        raise errors.GroupClosed(f'the group is {p.status}; a QR code for it would lead nowhere')
    seconds = p.seconds_left(now) if p.status == 'forming' else 86400
    return min(max(seconds, 60), QR_MAX_S)


def _paid_counts(group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = (Seat.select(Seat.group, fn.COUNT(Seat.id).alias('n'))
            .where(Seat.group.in_(group_ids), Seat.status == 'paid').group_by(Seat.group))
    return {r.group_id: r.n for r in rows}


def _progress(group: Group, leader: User, paid: int) -> GroupProgress:
    campaign = group.campaign
    return GroupProgress(
        group_id=group.id, campaign_id=campaign.id, share_code=group.share_code, status=group.status,
        course_title=campaign.course.title, cover_url=campaign.course.cover_url,
        price_fen=campaign.group_price_fen, list_price_fen=campaign.course.price_fen, size=group.size,
        paid=paid, deadline_at=group.deadline_at, leader_nickname=leader.nickname,
        leader_avatar_url=leader.avatar_url)
