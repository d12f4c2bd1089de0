"""What follows from the room events: their live events on the room's topic, their timers in the deadline
index, the reminder's outbox rows. Registered in the one table, groupbuy/subscribers.py. Nothing here imports
`transition` (handlers run inside one)."""
from .. import live_events, notifications
from ..domain_events import RoomReminderSent, RoomScheduled, RoomSubscribed
from ..wording import beijing_time
from .timers import timers_due

TIMERS = ('room_remind', 'room_open')


class RoomLive:
    """Publish on the room's live topic (`live_events.room_topic`): numbered, kept for Last-Event-ID catch-up
    and fanned out by the same hub as a group's events. `body(event)` is public data only (shown.py)."""

    def __init__(self, kind: str, body):
        self.kind, self.body, self.__name__ = kind, body, f'live {kind}'

    def __call__(self, t, event) -> None:
        live_events.publish(t.deps, live_events.room_topic(event.room.id), self.kind, self.body(event))


def schedule_room_timers(t, e: RoomScheduled) -> None:
    """A scheduled room's reminder and opening move with its start (a later call moves an item)."""
    due = timers_due(e.room, t.now)
    if due:
        t.deps.deadlines.schedule_many(due)


def cancel_room_timers(t, e) -> None:
    for kind in TIMERS:
        t.deps.deadlines.cancel(kind, e.room.id)


def schedule_reminder(t, e: RoomSubscribed) -> None:
    """The reminder item again (same due time, or now when its time has passed: a late subscriber still hears
    before the start; the job reminds each subscriber once)."""
    item = {k: v for k, v in timers_due(e.room, t.now).items() if k.startswith('room_remind:')}
    if item:
        t.deps.deadlines.schedule_many(item)


def tell_subscribers_room_starting(t, e: RoomReminderSent) -> None:
    room = e.room
    facts = {'course': room.campaign.course.title, 'title': room.title, 'deadline': beijing_time(room.starts_at),
             'room_id': room.id, 'campaign_id': room.campaign_id}
    notifications.notify(t.deps, 'room_reminder', {u: facts for u in e.recipients}, f'room_reminder:{room.id}',
                         t.after)


def in_room(e, **props) -> dict:
    """An analytics row's columns for a room event: its campaign, and the room in the props."""
    return dict(campaign=e.room.campaign_id, room=e.room.id, **props)
