"""A campaign's room: finding it, creating and rescheduling it, opening and closing it.

A room opens by itself at `starts_at` (the `open_room` job, due in the deadline index) or earlier when an
operator opens it; it closes when an operator closes it. Each change is a conditional UPDATE whose row count
says whether this call made it, so the timed job and an operator can race harmlessly."""
import datetime as dt

from .. import errors
from ..domain_events import RoomClosed, RoomOpened, RoomScheduled
from ..models import Campaign, Course, LiveRoom
from ..transition import transition
from .shown import stream_kind

SCHEDULE_FIELDS = ('title', 'starts_at', 'ends_at', 'stream_url', 'remind_before_s')


def get_room(room_id: int) -> LiveRoom:
    """The room with its campaign and course. Raises NotFound."""
    room = (LiveRoom.select(LiveRoom, Campaign, Course).join(Campaign).join(Course)
            .where(LiveRoom.id == room_id).first())
    if room is None:
        raise errors.NotFound(f'room {room_id} not found')
    return room


def room_of_campaign(campaign_id: int) -> LiveRoom:
    """The campaign's room. Raises NotFound when it has none."""
    room = LiveRoom.select(LiveRoom.id).where(LiveRoom.campaign == campaign_id).first()
    if room is None:
        raise errors.NotFound(f'campaign {campaign_id} has no live room')
    return get_room(room.id)


def list_rooms() -> list[LiveRoom]:
    """Every room, the next to start first, closed ones last (the console's list)."""
    return list(LiveRoom.select(LiveRoom, Campaign, Course).join(Campaign).join(Course)
                .order_by(LiveRoom.status == 'closed', LiveRoom.starts_at))


def _check(terms: dict) -> None:
    stream_kind(terms.get('stream_url') or '')  # InvalidInput for a URL no player takes
    if terms.get('ends_at') and terms.get('starts_at') and terms['ends_at'] <= terms['starts_at']:
        raise errors.InvalidInput('ends_at must be after starts_at', field='ends_at')


def create_room(deps, campaign_id: int, title: str, starts_at: dt.datetime, stream_url: str = '',
                ends_at: dt.datetime | None = None, remind_before_s: int = 600) -> LiveRoom:
    """A room for the campaign, scheduled at `starts_at` (its opening and the subscribers' reminder are
    timed from it). Raises NotFound (no such campaign), InvalidInput (a second room for the campaign, a
    stream URL no player takes, an end before the start)."""
    terms = dict(title=title, starts_at=starts_at, ends_at=ends_at, stream_url=stream_url or '',
                 remind_before_s=remind_before_s)
    _check(terms)
    if not Campaign.select().where(Campaign.id == campaign_id).exists():
        raise errors.NotFound(f'campaign {campaign_id} not found')
    if LiveRoom.select().where(LiveRoom.campaign == campaign_id).exists():
        raise errors.InvalidInput(f'campaign {campaign_id} already has a live room', field='campaign_id')
    with transition(deps) as t:
        room = LiveRoom.create(campaign=campaign_id, created_at=t.now, **terms)
        t.emit(RoomScheduled(room))
    return get_room(room.id)


def update_room(deps, room_id: int, changes: dict) -> tuple[dict, LiveRoom]:
    """Change the title, the stream link, the announced end, and — while still scheduled — the start and the
    reminder's lead. Returns (before, room). Raises NotFound, RoomClosed, InvalidInput."""
    changes = {k: v for k, v in changes.items() if k in SCHEDULE_FIELDS}
    room = get_room(room_id)
    before = {k: getattr(room, k) for k in SCHEDULE_FIELDS}
    if room.status == 'closed':
        raise errors.RoomClosed()
    if room.status != 'scheduled' and any(k in changes and changes[k] != before[k]
                                          for k in ('starts_at', 'remind_before_s')):
        raise errors.InvalidInput('the room is open: its start can no longer move', field='starts_at')
    _check({**before, **changes})
    with transition(deps) as t:
        if not LiveRoom.update(changes).where(LiveRoom.id == room_id, LiveRoom.status == room.status).execute():
            raise errors.InvalidTransition('the room changed meanwhile; reload and try again')
        room = get_room(room_id)
        t.emit(RoomScheduled(room))
    return before, room


def open_room(deps, room_id: int, by: str = 'schedule') -> str:
    """Open a scheduled room: 'opened', or 'not_yet' (the schedule's job before the start: the start moved
    later, its own item is due then) or 'noop' (already open or closed, or gone). An operator (`by` their
    name) may open it early."""
    room = LiveRoom.get_or_none(LiveRoom.id == room_id)
    if room is None or room.status != 'scheduled':
        return 'noop'
    with transition(deps) as t:
        if by == 'schedule' and t.now < room.starts_at:
            return 'not_yet'
        if not LiveRoom.update(status='open', opened_at=t.now).where(
                LiveRoom.id == room_id, LiveRoom.status == 'scheduled').execute():
            return 'noop'
        t.emit(RoomOpened(get_room(room_id), by))
    return 'opened'


def close_room(deps, room_id: int, by: str) -> LiveRoom:
    """Close the room (scheduled or open): no more posts or questions; what was said stays readable.
    Raises NotFound, RoomClosed (already closed)."""
    get_room(room_id)
    with transition(deps) as t:
        if not LiveRoom.update(status='closed', closed_at=t.now).where(
                LiveRoom.id == room_id, LiveRoom.status.in_(('scheduled', 'open'))).execute():
            raise errors.RoomClosed()
        room = get_room(room_id)
        t.emit(RoomClosed(room, by))
    return room
