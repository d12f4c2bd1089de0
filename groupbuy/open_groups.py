"""凑团: groups of a campaign still short, closest to filling first, so a newcomer can join a
stranger's group instead of opening yet another one that may never fill."""
import datetime as dt

from peewee import JOIN, fn

from . import catalog
from .models import Group, Seat, User


def open_groups(campaign_id: int, now: dt.datetime, limit: int = 20) -> list[dict]:
    """Forming groups before their deadline with seats left: fewest seats left first, then the
    soonest deadline. Raises NotFound for an unknown campaign."""
    campaign = catalog.get_campaign(campaign_id)
    paid = fn.COUNT(Seat.id).filter(Seat.status == 'paid')
    rows = (Group.select(Group, User.nickname, User.avatar_url, paid.alias('paid'))
            .join(User, on=(Group.leader == User.id), attr='leader')
            .switch(Group).join(Seat, JOIN.LEFT_OUTER, on=(Seat.group == Group.id))
            .where(Group.campaign == campaign.id, Group.status == 'forming', Group.deadline_at > now)
            .group_by(Group.id, User.nickname, User.avatar_url))
    found = []
    for g in rows:
        left = g.size - g.paid
        if left > 0:
            found.append({'share_code': g.share_code, 'size': g.size, 'paid_count': g.paid, 'seats_left': left,
                          'deadline_at': g.deadline_at, 'seconds_left': int((g.deadline_at - now).total_seconds()),
                          'leader': {'nickname': g.leader.nickname, 'avatar_url': g.leader.avatar_url}})
    found.sort(key=lambda x: (x['seats_left'], x['deadline_at']))
    return found[:limit]
