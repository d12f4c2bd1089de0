"""One place that turns every failure into `{"error": {"code", "message"}}` with a fitting status."""
import logging

import peewee
import redis
from flask import jsonify
from playhouse.pool import MaxConnectionsExceeded
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from groupbuy import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.InvalidInput: 400, errors.NotFound: 404, errors.Forbidden: 403,
    errors.CampaignNotActive: 409, errors.GroupFull: 409, errors.GroupClosed: 409,
    errors.AlreadyJoined: 409, errors.OwnGroup: 409, errors.LimitReached: 409,
    errors.AlreadyEnrolled: 409, errors.AlreadyBuying: 409, errors.PaymentMismatch: 400, errors.PaymentUnavailable: 502,
    errors.InvalidTransition: 409, errors.AccountConflict: 409, errors.WeChatUnavailable: 502,
    errors.RiskRefused: 403, errors.VerificationRequired: 403, errors.CouponUnavailable: 409,
}
HTTP_CODES = {400: 'invalid_input', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found',
              405: 'method_not_allowed', 413: 'payload_too_large', 415: 'invalid_input',
              429: 'rate_limited', 503: 'service_unavailable'}
# Redis or the database out of reach (a restart, a failover, a full pool): 503 and "try again", never a 500. The
# pools reconnect by themselves (peewee's checks each pooled connection out with a round trip; redis-py reconnects).
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.ClusterDownError,
               peewee.OperationalError, peewee.InterfaceError,
               MaxConnectionsExceeded)  # every pooled database connection busy past the pool's wait


class Unauthorized(errors.DomainError):
    """Sign in first: send `Authorization: Bearer <token>`."""
    code = 'unauthorized'


class UnknownFields(errors.InvalidInput):
    """The body has fields this endpoint does not take (a typo, or a field the server decides)."""
    code = 'unknown_fields'


STATUS[Unauthorized] = 401
STATUS[UnknownFields] = 400
STATUS.update({errors.RoomClosed: 409, errors.Muted: 403, errors.SensitiveWords: 400})  # warm-up live rooms


def error_response(code: str, message: str, status: int, **details):
    body = {'error': {'code': code, 'message': message}}
    if details:
        body['error']['details'] = details
    return jsonify(body), status


def init_app(app) -> None:
    @app.errorhandler(errors.DomainError)
    def domain_error(exc):
        return error_response(exc.code, exc.message, STATUS.get(type(exc), 400), **exc.details)

    @app.errorhandler(ValidationError)
    def validation_error(exc):
        problems = [{'field': '.'.join(str(p) for p in e['loc']), 'problem': e['msg']} for e in exc.errors()]
        first = problems[0] if problems else {'field': '', 'problem': 'invalid'}
        return error_response('invalid_input', f"{first['field']}: {first['problem']}", 400, fields=problems)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return error_response(HTTP_CODES.get(exc.code, 'http_error'), exc.description or exc.name, exc.code)

    def unavailable(exc):
        log.warning('answered 503: %s: %s', type(exc).__name__, exc)
        response, status = error_response('service_unavailable', 'a store we need did not answer; try again in a moment',
                                          503)
        response.headers['Retry-After'] = '1'
        return response, status
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, unavailable)

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception('unhandled error')
        return error_response('internal_error', 'something went wrong on our side; nothing was charged twice', 500)
