"""The user's in-app inbox and the subscribe-message consents the mini-program collected."""
import json

from flask import Blueprint, g, jsonify

import templates_msg
from groupbuy import notifications
from groupbuy.clock import iso

from . import schemas
from .auth import login_required
from .runtime import deps, runtime

bp = Blueprint('messages', __name__)


def message_json(n) -> dict:
    rendered = templates_msg.render(n.kind, json.loads(n.payload))
    return {'id': n.id, 'kind': n.kind, 'title': rendered.title, 'text': rendered.text, 'page': rendered.page,
            'created_at': iso(n.created_at), 'read_at': iso(n.read_at)}


@bp.get('/api/me/messages')
@login_required
def my_messages():
    page = schemas.parse_query(schemas.InboxPage)
    rows = notifications.inbox(g.user, before_id=page.before_id)
    return jsonify({'messages': [message_json(n) for n in rows],
                    'unread_count': notifications.unread_count(g.user)})


@bp.post('/api/me/messages/<id:message_id>/read')
@login_required
def read_message(message_id: int):
    message = notifications.mark_read(deps(), g.user, message_id)
    return jsonify({'message': message_json(message), 'unread_count': notifications.unread_count(g.user)})


@bp.post('/api/me/subscriptions')
@login_required
def record_subscriptions():
    body = schemas.parse(schemas.Consents)
    return jsonify({'consents': notifications.record_consents(deps(), g.user, body.template_ids)})


@bp.get('/api/message-templates')
def message_templates():
    """Which subscribe template ids the mini-program should ask consent for, per message kind."""
    ids = runtime().settings.message_templates
    return jsonify({'templates': {kind: templates_msg.template_ids(kind, ids)[0] for kind in templates_msg.KINDS}})
