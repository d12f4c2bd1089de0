"""Operators: refunds that need attention, and broadcasts to segments of users. Every change is in the
operator action log, by the actor `ADMIN_TOKEN`."""
import json

from flask import jsonify

from groupbuy import broadcasts, operators, refunds
from groupbuy.clock import iso

from . import schemas
from .auth import admin_blueprint
from .runtime import deps

bp = admin_blueprint('admin_money', __name__)


def refund_json(refund) -> dict:
    return {'id': refund.id, 'order_id': refund.order_id, 'out_trade_no': refund.order.out_trade_no,
            'out_refund_no': refund.out_refund_no, 'amount_fen': refund.amount_fen, 'reason': refund.reason,
            'status': refund.status, 'attempts': refund.attempts, 'last_error': refund.last_error,
            'created_at': iso(refund.created_at), 'updated_at': iso(refund.updated_at),
            'succeeded_at': iso(refund.succeeded_at)}


def broadcast_json(b) -> dict:
    return {'id': b.id, 'segment': json.loads(b.segment), 'message': b.message, 'status': b.status,
            'total': b.total, 'sent': b.sent, 'skipped': b.skipped, 'failed': b.failed,
            'created_at': iso(b.created_at), 'finished_at': iso(b.finished_at), 'last_error': b.last_error}


@bp.get('/refunds')
def list_refunds():
    query = schemas.parse_query(schemas.RefundList)
    return jsonify({'refunds': [refund_json(r) for r in refunds.list_refunds(query.status)]})


@bp.post('/refunds/<id:refund_id>/retry')
def retry_refund(refund_id: int):
    before = refunds.get_refund(refund_id).status
    refund = refunds.retry_refund(deps(), refund_id)
    operators.record_action(None, 'retry_refund', f'refund:{refund_id}', deps().now(), before={'status': before},
                            after={'status': refund.status, 'out_refund_no': refund.out_refund_no})
    return jsonify({'refund': refund_json(refunds.get_refund(refund.id))}), 202


@bp.post('/orders/<id:order_id>/refund')
def refund_order(order_id: int):
    """售后退款: a fulfilled order's money back and its course access gone."""
    refund = refunds.refund_after_sale(deps(), order_id)  # only a fulfilled order (else 409, nothing changes)
    operators.record_action(None, 'refund_after_sale', f'order:{order_id}', deps().now(),
                            before={'status': 'fulfilled'}, after={'refund': refund.id if refund else None})
    return jsonify({'refund': refund_json(refunds.get_refund(refund.id)) if refund else None}), 202


@bp.post('/broadcasts')
def create_broadcast():
    body = schemas.parse(schemas.NewBroadcast)
    broadcast = broadcasts.create_broadcast(deps(), body.segment.model_dump(), body.message)
    operators.record_action(None, 'send_broadcast', f'broadcast:{broadcast.id}', deps().now(),
                            after={'segment': body.segment.model_dump(), 'message': broadcast.message})
    return jsonify({'broadcast': broadcast_json(broadcast)}), 202


@bp.get('/broadcasts/<id:broadcast_id>')
def show_broadcast(broadcast_id: int):
    return jsonify({'broadcast': broadcast_json(broadcasts.get_broadcast(broadcast_id))})


@bp.post('/broadcasts/<id:broadcast_id>/run')
def rerun_broadcast(broadcast_id: int):
    broadcast = broadcasts.rerun_broadcast(deps(), broadcast_id)
    operators.record_action(None, 'rerun_broadcast', f'broadcast:{broadcast_id}', deps().now())
    return jsonify({'broadcast': broadcast_json(broadcast)}), 202
