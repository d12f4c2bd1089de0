"""What a viewer reads and does in a room: the room as shown, asking a question, subscribing to the reminder,
and the first visit that counts them as attending."""
import datetime as dt
from dataclasses import dataclass

from .. import errors
from ..domain_events import QuestionAsked, RoomAttended, RoomSubscribed
from ..models import RoomMute, RoomPost, RoomQuestion, RoomSubscription, RoomVisit, User
from ..transition import transition
from .rooms import get_room
from .shown import post_json, question_json, room_json
from .words import Filter

POSTS_SHOWN = 100  # the latest posts a viewer gets; older ones scroll away
QUESTIONS_SHOWN = 50
MAX_QUESTION = 200  # characters


@dataclass(frozen=True)
class Viewer:
    """What the room knows about the signed-in viewer."""
    subscribed: bool
    muted_until: dt.datetime | None
    muted: bool


def view(room_id: int) -> dict:
    """The room as everyone sees it: the room (status, schedule, stream), its latest posts (oldest first)
    and its public questions (pinned first, then the latest answered). Hidden items are never included.
    Raises NotFound."""
    room = get_room(room_id)
    posts = list(RoomPost.select().where(RoomPost.room == room_id, RoomPost.hidden == False)  # noqa: E712
                 .order_by(RoomPost.id.desc()).limit(POSTS_SHOWN))
    questions = list(RoomQuestion.select(RoomQuestion, User).join(User)
                     .where(RoomQuestion.room == room_id, RoomQuestion.hidden == False,  # noqa: E712
                            RoomQuestion.answer.is_null(False) | (RoomQuestion.pinned == True))  # noqa: E712
                     .order_by(RoomQuestion.pinned.desc(), RoomQuestion.id.desc()).limit(QUESTIONS_SHOWN))
    return {'room': room_json(room), 'posts': [post_json(p) for p in reversed(posts)],
            'questions': [question_json(q) for q in questions],
            'campaign': {'id': room.campaign_id, 'course': room.campaign.course.title,
                         'cover_url': room.campaign.course.cover_url}}


def viewer(room_id: int, user_id: int, now: dt.datetime) -> Viewer:
    subscribed = RoomSubscription.select().where(RoomSubscription.room == room_id,
                                                 RoomSubscription.user == user_id).exists()
    mute = _mute(room_id, user_id, now)
    return Viewer(subscribed=subscribed, muted=mute is not None, muted_until=mute.until if mute else None)


def _mute(room_id: int, user_id: int, now: dt.datetime) -> RoomMute | None:
    return RoomMute.select().where(RoomMute.room == room_id, RoomMute.user == user_id,
                                   RoomMute.until.is_null() | (RoomMute.until > now)).first()


def ask(deps, room_id: int, user: User, text: str, screen: Filter) -> RoomQuestion:
    """Ask a question. `screen` is the sensitive-word filter (groupbuy/rooms/words.py): it masks the text or
    raises SensitiveWords. The question is public once staff answer or pin it.
    Raises NotFound, RoomClosed, Muted, SensitiveWords, InvalidInput (empty or longer than MAX_QUESTION)."""
    text = (text or '').strip()
    if not text or len(text) > MAX_QUESTION:
        raise errors.InvalidInput(f'text: 1–{MAX_QUESTION} characters', field='text')
    room = get_room(room_id)
    if room.status == 'closed':
        raise errors.RoomClosed()
    mute = _mute(room_id, user.id, deps.now())
    if mute is not None:
        raise errors.Muted(until=mute.until.isoformat() + 'Z' if mute.until else None)
    kept, masked = screen(text)
    with transition(deps) as t:
        q = RoomQuestion.create(room=room_id, user=user.id, text=kept, created_at=t.now)
        t.emit(QuestionAsked(room, q, masked))
    return q


def subscribe(deps, room_id: int, user_id: int) -> bool:
    """Ask for the reminder before the room opens. True when this call subscribed (False: already).
    Raises NotFound, RoomClosed (closed: nothing to remind of)."""
    room = get_room(room_id)
    if room.status == 'closed':
        raise errors.RoomClosed()
    with transition(deps) as t:
        added = (RoomSubscription.insert(room=room_id, user=user_id, created_at=t.now)
                 .on_conflict_ignore().as_rowcount().execute())
        if added:
            t.emit(RoomSubscribed(room, user_id))
    return bool(added)


def attend(deps, room_id: int, user_id: int) -> bool:
    """Count a signed-in viewer's visit: the first one per person and room is stored (`RoomVisit.first_at`:
    who watched before they joined a group) and logged (`room_attended`). True for that first one. Later visits
    are one indexed read. Raises NotFound."""
    if RoomVisit.select().where(RoomVisit.room == room_id, RoomVisit.user == user_id).exists():
        return False
    room = get_room(room_id)
    with transition(deps) as t:
        added = (RoomVisit.insert(room=room_id, user=user_id, first_at=t.now)
                 .on_conflict_ignore().as_rowcount().execute())
        if added:
            t.emit(RoomAttended(room, user_id))
    return bool(added)
