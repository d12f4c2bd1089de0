"""`/r/<room_id>`: a warm-up live room's H5 page — the player, the staff's posts, answered and pinned questions,
the ask box, the reminder, and 「去拼团」 to the campaign. Live over the room's SSE stream (static/room.js).
A signed-in visitor (the H5 session, as on the group page) counts as attending; the sandbox lets a browser sign
in by name, as on the group page (static/pinke.js)."""
from flask import Blueprint, render_template, session

from groupbuy import errors
from groupbuy.clock import iso
from groupbuy.rooms import audience

from .auth import issue_token, user_for_token
from .h5_pages import SESSION_USER
from .runtime import runtime

bp = Blueprint('h5_room', __name__, template_folder='templates')
STATUS_WORDS = {'scheduled': '即将开播', 'open': '直播中', 'closed': '已结束'}


@bp.errorhandler(errors.NotFound)
def _not_found(exc):
    return render_template('h5_message.html', text='找不到这个直播间，链接可能有误。', link=None), 404


@bp.errorhandler(429)
def _too_many(exc):
    return render_template('h5_message.html', text='打开得太频繁了，请稍等一会儿再试。', link=None), 429


def _viewer():
    token = session.get(SESSION_USER)
    return user_for_token(token) if isinstance(token, str) else None


@bp.get('/r/<id:room_id>')
def room_page(room_id: int):
    rt = runtime()
    now = rt.deps.now()
    shown = audience.view(room_id)
    viewer = _viewer()
    if viewer is not None:
        audience.attend(rt.deps, room_id, viewer.id)
    room, campaign_url = shown['room'], f'/c/{shown["campaign"]["id"]}'
    settings = rt.settings
    live = {'page': 'room', 'roomId': room_id, 'apiBase': '', 'campaignUrl': campaign_url,
            'token': issue_token(viewer) if viewer else None, 'view': {**shown, 'server_time': iso(now)},
            'sandbox': settings.wechat_pay_base_url.rstrip('/') if settings.uses_sandbox else None}
    return render_template('room_page.html', view=shown, room=room, campaign=shown['campaign'], live=live,
                           campaign_url=campaign_url, status_words=STATUS_WORDS, viewer=viewer)
