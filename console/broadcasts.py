"""Broadcasts: compose to a segment, preview how many people each channel reaches, send, watch it finish."""
import json

from flask import flash, jsonify, redirect, render_template, request, url_for

from groupbuy import broadcasts, catalog, errors
from miniapp_api.admin_money import broadcast_json
from miniapp_api.runtime import runtime as rt

from .session import console_blueprint, log_action, needs

bp = console_blueprint('console_broadcasts', __name__)


def _segment(form) -> dict:
    """The segment the form describes (the domain checks it: groupbuy.broadcasts, as for the JSON API)."""
    kind = form.get('type', '')
    try:
        if kind == 'expiring_short':
            raw = {'type': kind, 'within_s': int(form.get('within_min', '0')) * 60}
        elif kind == 'campaign':
            raw = {'type': kind, 'campaign_id': int(form.get('campaign_id', '0'))}
        else:
            raw = {'type': kind, 'user_ids': [int(x) for x in form.get('user_ids', '').replace('，', ',').split(',')
                                               if x.strip()]}
    except ValueError:
        raise errors.InvalidInput('the segment needs whole numbers') from None
    return raw


@bp.get('/broadcasts')
@needs('view')
def broadcast_list():
    return _compose_page(request.args, reach=None)


@bp.post('/broadcasts/preview')
@needs('broadcasts')
def preview():
    segment = _segment(request.form)
    return _compose_page(request.form, reach=broadcasts.reach(rt().deps, segment, rt().deps.now()))


def _compose_page(form, reach):
    """The compose form (filled with `form`), the reach of a preview if any, and the recent broadcasts."""
    return render_template('console/broadcasts.html', broadcasts=broadcasts.list_broadcasts(), form=form,
                           campaigns=catalog.list_campaigns(), reach=reach)


@bp.post('/broadcasts')
@needs('broadcasts')
def send():
    segment = _segment(request.form)
    broadcast = broadcasts.create_broadcast(rt().deps, segment, request.form.get('message', ''))
    log_action('send_broadcast', f'broadcast:{broadcast.id}', after={'segment': segment, 'message': broadcast.message})
    flash(f'群发 #{broadcast.id} 已排队发送', 'ok')
    return redirect(url_for('.broadcast', broadcast_id=broadcast.id))


@bp.get('/broadcasts/<id:broadcast_id>')
@needs('view')
def broadcast(broadcast_id: int):
    b = broadcasts.get_broadcast(broadcast_id)
    return render_template('console/broadcast.html', b=b, segment=json.loads(b.segment))


@bp.get('/broadcasts/<id:broadcast_id>.json')
@needs('view')
def broadcast_progress(broadcast_id: int):
    """What the broadcast page polls to show its progress live."""
    return jsonify({'broadcast': broadcast_json(broadcasts.get_broadcast(broadcast_id))})
