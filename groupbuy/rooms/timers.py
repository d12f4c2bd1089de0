"""When a scheduled room's timed work is due: the reminder `remind_before_s` before the start, the opening at
the start — as deadline-index items (`room_remind:<room>`, `room_open:<room>`). Pure reads, no transition: the
after-commit handlers (groupbuy/rooms/reactions.py) and the index rebuild (groupbuy/sweeper.py) use them."""
import datetime as dt

from ..clock import to_ms
from ..deadline_index import item_key
from ..models import LiveRoom


def remind_at(room: LiveRoom) -> dt.datetime:
    return room.starts_at - dt.timedelta(seconds=room.remind_before_s)


def timers_due(room: LiveRoom, now: dt.datetime) -> dict[str, int]:
    """The deadline-index items of a scheduled room: {item: due ms}. A reminder already late is due now (a
    subscriber who came after it still hears once before the start); nothing for an open or closed room."""
    if room.status != 'scheduled':
        return {}
    return {item_key('room_remind', room.id): to_ms(max(remind_at(room), now)),
            item_key('room_open', room.id): to_ms(room.starts_at)}


def scheduled_timers(now: dt.datetime) -> dict[str, int]:
    """Every scheduled room's items (the index rebuilt after Redis lost it)."""
    due = {}
    for room in LiveRoom.select().where(LiveRoom.status == 'scheduled'):
        due.update(timers_due(room, now))
    return due
