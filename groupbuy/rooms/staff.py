"""What staff do in a room (the console): post, answer and pin questions, hide posts and questions, mute
someone. Each is one transition that emits its event; the live event and the analytics row follow from it
(groupbuy/subscribers.py). The console logs each in the operator action log."""
import datetime as dt

from .. import errors
from ..domain_events import QuestionAnswered, QuestionPinned, RoomItemHidden, RoomPosted, UserMuted
from ..models import LiveRoom, RoomMute, RoomPost, RoomQuestion, User
from ..transition import transition
from .rooms import get_room
from .shown import stream_kind

POST_KINDS = ('text', 'picture', 'stream')


def _writable(room_id: int) -> LiveRoom:
    room = get_room(room_id)
    if room.status == 'closed':
        raise errors.RoomClosed()
    return room


def post(deps, room_id: int, author: str, kind: str, body: str = '', picture_url: str = '') -> RoomPost:
    """Post to the room: `text` (body), `picture` (picture_url, body as its caption) or `stream` (body is the
    stream link: it also becomes the room's player). Raises NotFound, RoomClosed, InvalidInput."""
    if kind not in POST_KINDS:
        raise errors.InvalidInput(f'kind must be one of {", ".join(POST_KINDS)}', field='kind')
    if kind == 'text' and not body.strip():
        raise errors.InvalidInput('a text post needs a body', field='body')
    if kind == 'picture' and not picture_url.startswith('https://'):  # an http picture is blocked on an https page
        raise errors.InvalidInput('a picture post needs an https picture_url', field='picture_url')
    if kind == 'stream' and stream_kind(body) == 'none':
        raise errors.InvalidInput('a stream post needs the stream link as its body', field='body')
    room = _writable(room_id)
    with transition(deps) as t:
        if kind == 'stream':
            LiveRoom.update(stream_url=body).where(LiveRoom.id == room_id).execute()
            room.stream_url = body
        created = RoomPost.create(room=room.id, author=author, kind=kind, body=body, picture_url=picture_url,
                                  created_at=t.now)
        t.emit(RoomPosted(room, created))
    return created


def _question(room_id: int, question_id: int) -> RoomQuestion:
    q = (RoomQuestion.select(RoomQuestion, User).join(User)
         .where(RoomQuestion.id == question_id, RoomQuestion.room == room_id).first())
    if q is None:
        raise errors.NotFound(f'question {question_id} not found in room {room_id}')
    return q


def _shown_question(room_id: int, question_id: int) -> RoomQuestion:
    """A question staff may answer or pin: a hidden one stays hidden (answering would publish its text)."""
    q = _question(room_id, question_id)
    if q.hidden:
        raise errors.InvalidTransition(f'question {question_id} is hidden')
    return q


def answer_question(deps, room_id: int, question_id: int, answer: str, by: str, pin: bool = False) -> RoomQuestion:
    """Answer a question (again: the new answer replaces the old), pinning it when `pin`. The question becomes
    public unless hidden. Raises NotFound, RoomClosed, InvalidInput (an empty answer)."""
    if not answer.strip():
        raise errors.InvalidInput('the answer is empty', field='answer')
    room = _writable(room_id)
    _shown_question(room_id, question_id)
    with transition(deps) as t:
        changes = dict(answer=answer, answered_by=by, answered_at=t.now)
        if pin:
            changes['pinned'] = True
        RoomQuestion.update(changes).where(RoomQuestion.id == question_id).execute()
        q = _question(room_id, question_id)
        t.emit(QuestionAnswered(room, q))
    return q


def pin_question(deps, room_id: int, question_id: int, pinned: bool) -> RoomQuestion:
    """Pin (shown at the top, answered or not) or unpin a question. Raises NotFound, RoomClosed."""
    room = _writable(room_id)
    _shown_question(room_id, question_id)
    with transition(deps) as t:
        if not RoomQuestion.update(pinned=pinned).where(RoomQuestion.id == question_id,
                                                       RoomQuestion.pinned != pinned).execute():
            return _question(room_id, question_id)  # already so: nothing to tell anyone
        q = _question(room_id, question_id)
        t.emit(QuestionPinned(room, q))
    return q


def hide(deps, room_id: int, kind: str, item_id: int, by: str) -> bool:
    """Hide a post or a question for good: never served again, and removed from every open screen. True when
    this call hid it (False: it was hidden already). Raises NotFound. Works in a closed room too."""
    model = {'post': RoomPost, 'question': RoomQuestion}.get(kind)
    if model is None:
        raise errors.InvalidInput('kind must be post or question', field='kind')
    room = get_room(room_id)
    if not model.select().where(model.id == item_id, model.room == room_id).exists():
        raise errors.NotFound(f'{kind} {item_id} not found in room {room_id}')
    with transition(deps) as t:
        if not model.update(hidden=True).where(model.id == item_id, model.hidden == False).execute():  # noqa: E712
            return False
        t.emit(RoomItemHidden(room, kind, item_id, by))
    return True


def mute(deps, room_id: int, user_id: int, minutes: int | None, by: str) -> RoomMute:
    """Stop `user_id` asking in this room for `minutes` (None or 0: for the room's life); muting again
    replaces the earlier term. Raises NotFound (room or user)."""
    room = get_room(room_id)
    if not User.select().where(User.id == user_id).exists():
        raise errors.NotFound(f'user {user_id} not found')
    with transition(deps) as t:
        until = t.now + dt.timedelta(minutes=minutes) if minutes else None
        (RoomMute.insert(room=room_id, user=user_id, until=until, muted_by=by, created_at=t.now)
         .on_conflict(conflict_target=[RoomMute.room, RoomMute.user],
                      update={RoomMute.until: until, RoomMute.muted_by: by, RoomMute.created_at: t.now})
         .execute())
        t.emit(UserMuted(room, user_id, until, by))
    return RoomMute.get(RoomMute.room == room_id, RoomMute.user == user_id)


def unmute(deps, room_id: int, user_id: int) -> bool:
    """Lift a mute. True when there was one."""
    get_room(room_id)
    return bool(RoomMute.delete().where(RoomMute.room == room_id, RoomMute.user == user_id).execute())


def room_questions(room_id: int, limit: int = 200) -> list[RoomQuestion]:
    """Every question of the room with its asker, newest first, hidden ones too (the console's moderation list)."""
    return list(RoomQuestion.select(RoomQuestion, User).join(User).where(RoomQuestion.room == room_id)
                .order_by(RoomQuestion.id.desc()).limit(limit))


def room_posts(room_id: int, limit: int = 200) -> list[RoomPost]:
    """Every post of the room, newest first, hidden ones too (the console)."""
    return list(RoomPost.select().where(RoomPost.room == room_id).order_by(RoomPost.id.desc()).limit(limit))


def active_mutes(room_id: int, now: dt.datetime) -> list[RoomMute]:
    return list(RoomMute.select(RoomMute, User).join(User).where(
        RoomMute.room == room_id, RoomMute.until.is_null() | (RoomMute.until > now)))
