"""What a share says about a group — the card's title, seats and time left, the price — in the
words every door uses (mini-program card, H5 page, poster, the bot), so they never disagree. Prices,
time left and dates are written by groupbuy/wording.py, as in pushes."""
import datetime as dt

from . import errors, progress, tiers
from .models import LIVE_GROUP, Group, Seat
from .progress import Progress
from .wording import time_left, yuan

QR_MAX_S = 30 * 24 * 3600  # WeChat's longest temporary QR code


def share_title(p: Progress, now: dt.datetime) -> str:
    """The card title: '还差2人 ¥99 拼《Python入门》' while there is room, else what happened. A tiered group past
    its first tier names the next price ('已成团 再2人 ¥79 拼…'); a cross-course group the choice ('等3门课任选')."""
    course = f'《{p.course_title}》' + (f'等{p.courses}门课任选' if p.courses > 1 else '')
    if p.joinable(now):
        if p.tiers and p.paid >= p.needed:
            up = tiers.next_tier(p.tiers, p.paid)
            return f'已成团 再{up.size - p.paid}人 ¥{yuan(up.price_fen)} 拼{course}'
        return f'还差{p.needed - p.paid}人 ¥{yuan(p.price_fen)} 拼{course}'
    if p.status == 'pending':
        return f'¥{yuan(p.price_fen)} 一起拼{course}'
    if p.status == 'succeeded':
        reached = tiers.reached(p.tiers, p.paid)
        return f'已成团 · ¥{yuan(reached.price_fen if reached else p.price_fen)} 拼{course}'
    return f'拼团已结束 · {course}'


def status_line(p: Progress, now: dt.datetime) -> str:
    """One line of progress: '还差2人成团，剩 3小时12分钟'; a tiered group past its first tier: '已成团！再2人每人
    降到 ¥79，剩 …'."""
    if p.joinable(now):
        left = time_left(p.seconds_left(now))
        if p.tiers and p.paid >= p.needed:
            up = tiers.next_tier(p.tiers, p.paid)
            return f'已成团！再{up.size - p.paid}人每人降到 ¥{yuan(up.price_fen)}，剩 {left}'
        return f'还差{p.needed - p.paid}人成团，剩 {left}'
    return {'pending': '等团长付款后开团', 'succeeded': '已成团，课程已开通',
            'reviewing': '已凑满，正在确认'}.get(p.status, '拼团已结束')


def miniapp_path(page: str, share_code: str, ref: str | None) -> str:
    """The mini-program page of a group, with the sharer: 'pages/group/index?code=..&from=..'."""
    return f'{page}?code={share_code}' + (f'&from={ref}' if ref else '')


def live_groups_of(user_id: int, limit: int = 10) -> list[Progress]:
    """Groups the user is in (a reserved or paid seat) that are still open, soonest deadline first."""
    mine = Seat.select(Seat.group).where(Seat.user == user_id, Seat.status != 'released')
    rows = (progress.query().where(Group.id.in_(mine), Group.status.in_(LIVE_GROUP))
            .order_by(Group.deadline_at.asc(nulls='LAST'), Group.id).limit(limit))
    return [progress.from_row(g) for g in rows]


def qr_lifetime_s(p: Progress, now: dt.datetime) -> int:
    """How long an official-account QR code for this group should live: until its deadline (a day
    while the leader has not paid). Raises GroupClosed for a finished group."""
    if p.status not in LIVE_GROUP or (p.status == 'forming' and p.seconds_left(now) <= 0):
        raise errors.GroupClosed(f'the group is {p.status}; a QR code for it would lead nowhere')
    seconds = p.seconds_left(now) if p.status == 'forming' else 86400
    return min(max(seconds, 60), QR_MAX_S)
