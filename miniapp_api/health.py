"""Liveness for load balancers and benchmarks: cheap, touches DB and Redis once."""
from flask import Blueprint, jsonify

from groupbuy.clock import iso
from groupbuy.models import db

from .runtime import deps

bp = Blueprint('health', __name__)


@bp.get('/healthz')
def healthz():
    d = deps()
    db.execute_sql('SELECT 1')
    d.redis.ping()
    return jsonify({'ok': True, 'server_time': iso(d.now())})
