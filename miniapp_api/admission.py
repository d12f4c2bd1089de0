"""At most `limit` requests of a web process inside the app at once; the rest wait their turn in line.

A gevent worker accepts thousands of connections (live pages hold streams open), and under a flash-sale
crowd it started more requests at once than its database pool holds: the ones past the pool waited on it,
then failed (503, "no connection available"). In line at the door instead, a request waits without holding
anything and gets its connections when it is admitted; only one that waited `wait_s` in vain is answered 503
(with Retry-After). A stream's request passes the door like any other: its handler returns at once and the
events flow afterwards, outside the line. The semaphore is threading's, which gevent's workers patch.

A request's body is read before it joins the line (at most `max_body` + 1 bytes; more is the app's 413 to give):
a client that sends its body slowly, or never, waits holding nothing, instead of keeping a place inside while the
app reads from it."""
import io
import json
import threading

from werkzeug.wrappers import Response

BUSY = json.dumps({'error': {'code': 'service_unavailable',
                             'message': 'too many requests at once here; try again in a moment'}})


class Admission:
    """WSGI middleware: `app.wsgi_app = Admission(app.wsgi_app, limit, wait_s)`."""

    def __init__(self, wsgi_app, limit: int, wait_s: float, max_body: int):
        self.wsgi_app, self.limit, self.wait_s, self.max_body = wsgi_app, limit, wait_s, max_body
        self.slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ, start_response):
        self._read_body_first(environ)
        if not self.slots.acquire(timeout=self.wait_s):
            busy = Response(BUSY, status=503, mimetype='application/json', headers={'Retry-After': '1'})
            return busy(environ, start_response)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            self.slots.release()

    def _read_body_first(self, environ) -> None:
        try:
            length = int(environ.get('CONTENT_LENGTH') or 0)
        except ValueError:
            return  # the app answers a malformed length
        chunked = 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower()  # (gunicorn ends every input)
        if not (0 < length <= self.max_body or chunked) or 'wsgi.input' not in environ:
            return  # no body, or one the app refuses (413) from its length alone
        body = environ['wsgi.input'].read(length if length else self.max_body + 1)
        environ['wsgi.input'] = io.BytesIO(body)
        if length and len(body) < length:  # the client went away mid-body: the app sees what came
            environ['CONTENT_LENGTH'] = str(len(body))
