"""Warm-up live rooms: create and schedule a campaign's room, open and close it, post (text, a picture, a stream
link), answer and pin questions, hide posts and questions, mute someone. Every change is in the action log."""
from flask import flash, g, redirect, render_template, request, url_for

from groupbuy import catalog
from groupbuy.rooms import rooms as room_schedule
from groupbuy.rooms import staff
from groupbuy.rooms.shown import room_json
from miniapp_api import room_schemas
from miniapp_api.runtime import runtime as rt

from .forms import parse_form
from .session import console_blueprint, log_action, needs

bp = console_blueprint('console_rooms', __name__)


def _back(room_id: int):
    return redirect(url_for('.room', room_id=room_id))


@bp.get('/rooms')
@needs('view')
def rooms():
    return render_template('console/rooms.html', rooms=room_schedule.list_rooms(),
                           campaigns=catalog.list_campaigns())


@bp.post('/rooms')
@needs('rooms')
def create_room():
    body = parse_form(room_schemas.NewRoom, request.form)
    room = room_schedule.create_room(rt().deps, **body.model_dump())
    log_action('create_room', f'room:{room.id}', after=room_json(room))
    flash(f'直播间 #{room.id} 已创建', 'ok')
    return _back(room.id)


@bp.get('/rooms/<id:room_id>')
@needs('view')
def room(room_id: int):
    now = rt().deps.now()
    return render_template('console/room.html', room=room_schedule.get_room(room_id), posts=staff.room_posts(room_id),
                           questions=staff.room_questions(room_id), mutes=staff.active_mutes(room_id, now),
                           public_url=f'{rt().settings.public_base_url}/r/{room_id}')


@bp.post('/rooms/<id:room_id>')
@needs('rooms')
def update_room(room_id: int):
    body = parse_form(room_schemas.RoomSchedule, request.form)
    before, changed = room_schedule.update_room(rt().deps, room_id, body.model_dump())
    log_action('update_room', f'room:{room_id}', before=before, after=room_json(changed))
    flash('已保存', 'ok')
    return _back(room_id)


@bp.post('/rooms/<id:room_id>/<any(open, close):move>')
@needs('rooms')
def move_room(room_id: int, move: str):
    d, by = rt().deps, g.operator.name
    if move == 'open':
        outcome = room_schedule.open_room(d, room_id, by=by)
        flash('直播间已开播' if outcome == 'opened' else '直播间已经开播或已结束', 'ok')
    else:
        room_schedule.close_room(d, room_id, by)
        flash('直播间已结束', 'ok')
    log_action(f'{move}_room', f'room:{room_id}', after={'status': room_schedule.get_room(room_id).status})
    return _back(room_id)


@bp.post('/rooms/<id:room_id>/posts')
@needs('rooms')
def post(room_id: int):
    body = parse_form(room_schemas.NewPost, request.form)
    created = staff.post(rt().deps, room_id, body.author, body.kind, body.body, body.picture_url)
    log_action('room_post', f'room:{room_id}', after={'post': created.id, 'kind': created.kind, 'author': created.author})
    flash('已发布', 'ok')
    return _back(room_id)


@bp.post('/rooms/<id:room_id>/<any(post, question):kind>/<id:item_id>/hide')
@needs('rooms')
def hide(room_id: int, kind: str, item_id: int):
    if staff.hide(rt().deps, room_id, kind, item_id, g.operator.name):
        log_action(f'hide_room_{kind}', f'room:{room_id}', before={kind: item_id, 'hidden': False},
                   after={kind: item_id, 'hidden': True})
    flash('已隐藏', 'ok')
    return _back(room_id)


@bp.post('/rooms/<id:room_id>/questions/<id:question_id>/answer')
@needs('rooms')
def answer(room_id: int, question_id: int):
    body = parse_form(room_schemas.Answer, request.form)
    q = staff.answer_question(rt().deps, room_id, question_id, body.answer, body.answered_by, pin=body.pin)
    log_action('answer_room_question', f'room:{room_id}', after={'question': q.id, 'pinned': q.pinned})
    flash('已回答', 'ok')
    return _back(room_id)


@bp.post('/rooms/<id:room_id>/questions/<id:question_id>/<any(pin, unpin):move>')
@needs('rooms')
def pin(room_id: int, question_id: int, move: str):
    q = staff.pin_question(rt().deps, room_id, question_id, move == 'pin')
    log_action(f'{move}_room_question', f'room:{room_id}', after={'question': q.id, 'pinned': q.pinned})
    flash('已置顶' if q.pinned else '已取消置顶', 'ok')
    return _back(room_id)


@bp.post('/rooms/<id:room_id>/mutes')
@needs('rooms')
def mute(room_id: int):
    body = parse_form(room_schemas.Mute, request.form)
    muted = staff.mute(rt().deps, room_id, body.user_id, body.minutes, g.operator.name)
    log_action('mute_in_room', f'room:{room_id}', after={'user': body.user_id, 'until': muted.until})
    flash(f'用户 #{body.user_id} 已禁言', 'ok')
    return _back(room_id)


@bp.post('/rooms/<id:room_id>/mutes/<id:user_id>/lift')
@needs('rooms')
def unmute(room_id: int, user_id: int):
    if staff.unmute(rt().deps, room_id, user_id):
        log_action('unmute_in_room', f'room:{room_id}', before={'user': user_id, 'muted': True},
                   after={'user': user_id, 'muted': False})
    flash(f'用户 #{user_id} 已解除禁言', 'ok')
    return _back(room_id)
