"""At most `limit` requests of a web process inside the app at once; the rest wait their turn in line.

A gevent worker accepts thousands of connections (live pages hold streams open), and under a flash-sale
crowd it started more requests at once than its database pool holds: the ones past the pool waited on it,
then failed (503, "no connection available"). In line at the door instead, a request waits without holding
anything and gets its connections when it is admitted; only one that waited `wait_s` in vain is answered 503
(with Retry-After). A stream's request passes the door like any other: its handler returns at once and the
events flow afterwards, outside the line. Its lock and events are threading's, which gevent's workers patch.

A request's body is read before it joins the line (at most `max_body` + 1 bytes; more is the app's 413 to give):
a client that sends its body slowly, or never, waits holding nothing, instead of keeping a place inside while the
app reads from it.

The line is first come, first served: a place that frees goes to the request that has waited longest, never to
one that arrives at that moment. (gevent's semaphore, like threading's, gives a freed count to whoever asks first:
under a flash-sale crowd newcomers kept passing a waiter until its 30 s ran out — a 503 in a run where the 99th
percentile waited 10 s.)"""
import collections
import io
import json
import threading

from werkzeug.wrappers import Response

BUSY = json.dumps({'error': {'code': 'service_unavailable',
                             'message': 'too many requests at once here; try again in a moment'}})


class Admission:
    """WSGI middleware: `app.wsgi_app = Admission(app.wsgi_app, limit, wait_s)`."""

    def __init__(self, wsgi_app, limit: int, wait_s: float, max_body: int):
        self.wsgi_app, self.wait_s, self.max_body = wsgi_app, wait_s, max_body
        self.free = limit  # places inside nobody holds
        self.waiting: collections.deque[threading.Event] = collections.deque()  # the line, longest-waiting first
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        self._read_body_first(environ)
        if not self.enter(self.wait_s):
            busy = Response(BUSY, status=503, mimetype='application/json', headers={'Retry-After': '1'})
            return busy(environ, start_response)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            self.leave()

    def enter(self, wait_s: float) -> bool:
        """Take a place inside: at once if one is free and nobody is waiting, else at the end of the line, for at
        most `wait_s`. False: the wait ran out."""
        with self.lock:
            if self.free and not self.waiting:
                self.free -= 1
                return True
            turn = threading.Event()
            self.waiting.append(turn)
        try:
            handed = turn.wait(wait_s)
        except BaseException:  # killed while waiting (a worker stopping): its turn must take no place with it
            if self._step_out(turn):
                self.leave()  # one was handed to it meanwhile: pass it on
            raise
        return handed or self._step_out(turn)

    def _step_out(self, turn: threading.Event) -> bool:
        """Leave the line: True if a place was handed over just before (then it is this request's)."""
        with self.lock:
            if turn.is_set():
                return True
            self.waiting.remove(turn)
            return False

    def leave(self) -> None:
        """Give the place back: straight to the request that has waited longest, if any."""
        with self.lock:
            if self.waiting:
                self.waiting.popleft().set()
            else:
                self.free += 1

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
