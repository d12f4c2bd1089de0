"""At most `limit` requests of a web process inside the app at once; the rest wait their turn in line.

A gevent worker accepts thousands of connections (live pages hold streams open), and under a flash-sale
crowd it started more requests at once than its database pool holds: the ones past the pool waited on it,
then failed (503, "no connection available"). In line at the door instead, a request waits without holding
anything and gets its connections when it is admitted; only one that waited `wait_s` in vain is answered 503
(with Retry-After). A stream's request passes the door like any other: its handler returns at once and the
events flow afterwards, outside the line. The semaphore is threading's, which gevent's workers patch."""
import json
import threading

from werkzeug.wrappers import Response

BUSY = json.dumps({'error': {'code': 'service_unavailable',
                             'message': 'too many requests at once here; try again in a moment'}})


class Admission:
    """WSGI middleware: `app.wsgi_app = Admission(app.wsgi_app, limit, wait_s)`."""

    def __init__(self, wsgi_app, limit: int, wait_s: float):
        self.wsgi_app, self.limit, self.wait_s = wsgi_app, limit, wait_s
        self.slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ, start_response):
        if not self.slots.acquire(timeout=self.wait_s):
            busy = Response(BUSY, status=503, mimetype='application/json', headers={'Retry-After': '1'})
            return busy(environ, start_response)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            self.slots.release()
