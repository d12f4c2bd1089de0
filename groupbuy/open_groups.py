"""凑团: groups of a campaign still short, closest to filling first, so a newcomer can join a
stranger's group instead of opening yet another one that may never fill."""
import datetime as dt

from . import catalog, progress
from .models import Group


def open_groups(campaign_id: int, now: dt.datetime, limit: int = 20) -> list[dict]:
    """Forming groups before their deadline with seats left: fewest seats left first, then the
    soonest deadline. Raises NotFound for an unknown campaign."""
    campaign = catalog.get_campaign(campaign_id)
    rows = progress.query().where(Group.campaign == campaign.id, Group.status == 'forming', Group.deadline_at > now)
    found = [p for p in map(progress.from_row, rows) if p.seats_left > 0]
    found.sort(key=lambda p: (p.seats_left, p.deadline_at))
    return [{'share_code': p.share_code, 'size': p.size, 'paid_count': p.paid, 'seats_left': p.seats_left,
             'deadline_at': p.deadline_at, 'seconds_left': p.seconds_left(now),
             'leader': {'nickname': p.leader_nickname, 'avatar_url': p.leader_avatar_url}}
            for p in found[:limit]]
