"""Liveness for load balancers and benchmarks: cheap, touches DB and Redis once."""
from flask import Blueprint, jsonify

from groupbuy.clock import iso
from groupbuy.db import ping

from .runtime import deps

bp = Blueprint('health', __name__)


@bp.get('/healthz')
def healthz():
    d = deps()
    ping()
    d.redis.ping()
    return jsonify({'ok': True, 'server_time': iso(d.now())})
