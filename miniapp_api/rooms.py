"""A campaign's warm-up live room for shoppers: read it (posts, answered and pinned questions, the schedule, the
stream, the campaign to join), follow it live (SSE, the group page's machinery), ask a question, subscribe to
the reminder before it opens. Staff work in the console (console/rooms.py)."""
from flask import Blueprint, current_app, g, jsonify

from groupbuy.clock import iso
from groupbuy.live_events import room_topic
from groupbuy.rooms import audience, rooms, words
from groupbuy.rooms.shown import question_json
from groupbuy.rooms.timers import remind_at

from . import schemas
from .auth import login_required, optional_user
from .live_stream import event_stream
from .room_schemas import NewQuestion
from .runtime import deps

bp = Blueprint('rooms', __name__)


@bp.record_once
def _check_word_filter(state) -> None:
    """A misspelt ROOM_WORD_FILTER stops the app at start, not at the first question."""
    if 'pinke' in state.app.extensions:
        word_filter(state.app)


def word_filter(app=None) -> words.Filter:
    app = app or current_app
    if 'pinke_word_filter' not in app.extensions:
        settings = app.extensions['pinke'].settings
        app.extensions['pinke_word_filter'] = words.load_filter(settings.room_word_filter,
                                                               settings.room_sensitive_words)
    return app.extensions['pinke_word_filter']


def room_answer(room_id: int) -> dict:
    """The room as shown, with `me` for a signed-in viewer (whose first visit counts as attending)."""
    d = deps()
    now = d.now()
    shown = audience.view(room_id)
    user = optional_user()
    me = None
    if user is not None:
        audience.attend(d, room_id, user.id)
        state = audience.viewer(room_id, user.id, now)
        me = {'subscribed': state.subscribed, 'muted': state.muted, 'muted_until': iso(state.muted_until)}
    campaign = dict(shown['campaign'], h5_url=f'/c/{shown["campaign"]["id"]}')
    return {**shown, 'campaign': campaign, 'me': me, 'server_time': iso(now)}


@bp.get('/api/rooms/<id:room_id>')
def show_room(room_id: int):
    return jsonify(room_answer(room_id))


@bp.get('/api/campaigns/<id:campaign_id>/room')
def campaign_room(campaign_id: int):
    return jsonify(room_answer(rooms.room_of_campaign(campaign_id).id))


@bp.get('/api/rooms/<id:room_id>/events')
def room_events(room_id: int):
    rooms.get_room(room_id)  # an unknown room is a 404 before any stream
    return event_stream(room_topic(room_id), lambda now: {**audience.view(room_id), 'server_time': iso(now)},
                        replay=False)  # a snapshot on every reconnect: hidden items never come back from history


@bp.post('/api/rooms/<id:room_id>/questions')
@login_required
def ask_question(room_id: int):
    body = schemas.parse(NewQuestion)
    q = audience.ask(deps(), room_id, g.user, body.text, word_filter())
    return jsonify({'question': question_json(q, g.user)}), 201


@bp.post('/api/rooms/<id:room_id>/subscription')
@login_required
def subscribe(room_id: int):
    d = deps()
    added = audience.subscribe(d, room_id, g.user.id)
    room = rooms.get_room(room_id)
    reminding = room.status == 'scheduled'
    return jsonify({'subscribed': True, 'new': added, 'remind_at': iso(remind_at(room)) if reminding else None,
                    'server_time': iso(d.now())})

