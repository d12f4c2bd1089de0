"""The room's timed work: the reminder to subscribers `remind_before_s` before the start, and the opening at
the start. Both are deadline-index items (`room_remind:<room>`, `room_open:<room>`), rescheduled whenever the
room's schedule changes, rebuilt from the database with the rest of the index (groupbuy/sweeper.py), and run
as jobs (groupbuy/job_catalogue.py) that re-check the room, so an early, late or repeated run is harmless."""
from ..db import locked
from ..domain_events import RoomReminderSent
from ..models import LiveRoom, RoomSubscription
from ..transition import transition
from .rooms import get_room
from .timers import remind_at


def remind_subscribers(deps, room_id: int) -> int:
    """Remind every subscriber not yet reminded, once: each row's `reminded_at` is set by a conditional
    UPDATE in the transaction that writes the outbox rows (`room_reminder:<room>:<user>` dedupe keys), so a
    re-run, or two runs at once, remind nobody twice. Returns how many were reminded now. Does nothing before
    the reminder is due, or once the room has opened or closed."""
    room = LiveRoom.get_or_none(LiveRoom.id == room_id)
    if room is None or room.status != 'scheduled':
        return 0
    with transition(deps) as t:
        locked(LiveRoom.select(LiveRoom.id).where(LiveRoom.id == room_id)).first()  # one reminder run at a time
        if t.now < remind_at(room):
            return 0
        waiting = [s.user_id for s in RoomSubscription.select(RoomSubscription.user).where(
            RoomSubscription.room == room_id, RoomSubscription.reminded_at.is_null())]
        if not waiting:
            return 0
        RoomSubscription.update(reminded_at=t.now).where(
            RoomSubscription.room == room_id, RoomSubscription.user.in_(waiting),
            RoomSubscription.reminded_at.is_null()).execute()
        t.emit(RoomReminderSent(get_room(room_id), waiting))
    return len(waiting)
