"""Deadline nudges: before a group's deadline, members of groups still short hear how many seats
are left and how long, with the share path, so the leader goes back to sharing. When they are due:
groupbuy/nudge_schedule.py."""
from . import errors, members
from .domain_events import NudgeSent
from .models import Notification
from .nudge_schedule import nudge_fact
from .notifications import quiet_until
from .progress import progress_of_group
from .transition import transition


def send_nudge(deps, group_id: int, offset: int) -> int:
    """Nudge the leader and paid members of a group still short, once per offset and person.
    Returns how many people were nudged now (0 if the group filled, closed, or was nudged)."""
    with transition(deps) as t:
        try:
            progress = progress_of_group(group_id)
        except errors.NotFound:
            return 0
        if not progress.joinable(t.now):
            return 0
        fact = nudge_fact(group_id, offset)
        fresh = [u for u in members.paid_member_ids(group_id) if not _already(fact, u)]
        if fresh:
            t.emit(NudgeSent(progress, offset, fresh, quiet_until(deps, t.now, progress.deadline_at)))
    return len(fresh)


def _already(fact: str, user_id: int) -> bool:
    return Notification.select().where(Notification.dedupe_key == f'{fact}:{user_id}').exists()
