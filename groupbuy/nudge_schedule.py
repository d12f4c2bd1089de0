"""When a group's deadline nudges are due, as deadline-index items (the job that sends one:
groupbuy/nudges.py), and the key their notifications share."""
import datetime as dt

from . import rules
from .clock import to_ms
from .deadline_index import item_key
from .models import Group


def offsets_of(campaign) -> list[int]:
    """Seconds before the deadline, largest first (from the campaign's `nudge_offsets`)."""
    try:
        values = {int(x) for x in (campaign.nudge_offsets or '').split(',') if x.strip()}
    except ValueError:
        return []
    return sorted((v for v in values if v > 0), reverse=True)


def nudges_due(group: Group, now: dt.datetime) -> dict[str, int]:
    """{deadline-index item: due_ms} for the group's nudges (`rules.nudge_times`)."""
    times = rules.nudge_times(group.deadline_at, group.duration_s, offsets_of(group.campaign), now)
    return {item_key('nudge', group.id, offset): to_ms(at) for offset, at in times.items()}


def nudge_fact(group_id: int, offset: int) -> str:
    """What a nudge notification's dedupe key starts with: one per group, offset and person."""
    return f'nudge:{group_id}:{offset}'
