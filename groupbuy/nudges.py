"""Deadline nudges: before a group's deadline, members of groups still short hear how many seats
are left and how long, with the share path, so the leader goes back to sharing."""
import datetime as dt

from . import rules
from .after_commit import AfterCommit
from .clock import to_ms
from .db import transaction
from .deadline_index import item_key
from .events import record_event
from .facts import group_facts
from .models import Group, Seat
from .notifications import notify, quiet_until


def offsets_of(campaign) -> list[int]:
    """Seconds before the deadline, largest first (from the campaign's `nudge_offsets`)."""
    try:
        values = {int(x) for x in (campaign.nudge_offsets or '').split(',') if x.strip()}
    except ValueError:
        return []
    return sorted((v for v in values if v > 0), reverse=True)


def nudges_due(group: Group, now: dt.datetime) -> dict[str, int]:
    """{deadline-index item: due_ms} for the group's nudges (`rules.nudge_times`)."""
    times = rules.nudge_times(group.deadline_at, group.campaign.duration_s, offsets_of(group.campaign), now)
    return {item_key('nudge', group.id, offset): to_ms(at) for offset, at in times.items()}


def schedule_nudges(deps, group: Group, after: AfterCommit) -> None:
    """Put each of the group's nudges in the deadline index, once the transaction has committed."""
    due = nudges_due(group, deps.now())
    if due:
        after.add(deps.deadlines.schedule_many, due)


def send_nudge(deps, group_id: int, offset: int) -> int:
    """Nudge the leader and paid members of a group still short, once per offset and person.
    Returns how many people were nudged now (0 if the group filled, closed, or was nudged)."""
    now = deps.now()
    after = AfterCommit()
    with transaction():
        group = Group.get_or_none(Group.id == group_id)
        if group is None or group.status != 'forming' or now >= group.deadline_at:
            return 0
        facts = group_facts(group, now)
        if facts['seats_left'] == 0:
            return 0
        members = [s.user_id for s in Seat.select(Seat.user).where(Seat.group == group.id, Seat.status == 'paid')]
        fact = f'nudge:{group.id}:{offset}'
        fresh = [u for u in members if not _already(fact, u)]
        if fresh:
            notify(deps, 'deadline_nudge', {u: facts for u in fresh}, fact, after,
                   not_before=quiet_until(deps, now, group.deadline_at))
            record_event('nudge_sent', group=group.id, campaign=group.campaign_id, at=now,
                         offset_s=offset, recipients=len(fresh), seats_left=facts['seats_left'])
    after.run()
    return len(fresh)


def _already(fact: str, user_id: int) -> bool:
    from .models import Notification
    return Notification.select().where(Notification.dedupe_key == f'{fact}:{user_id}').exists()
