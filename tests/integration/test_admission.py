"""The line at the door (miniapp_api/admission.py): a web process works on at most WEB_IN_FLIGHT requests at
once; the next waits, and only one that waited WEB_QUEUE_WAIT_S in vain is answered 503 with Retry-After — the
JSON error, never a 500. A live stream passes the door at once: an open stream holds no place in the line."""
import threading

import pytest
from flask import request
from werkzeug.test import EnvironBuilder, run_wsgi_app

from miniapp_api.admission import Admission
from tests.integration.test_rate_limits import forming_group
from tests.support.private_servers import wait_for


@pytest.fixture
def app(make_app):
    app = make_app(web_in_flight=1, web_queue_wait_s=0.2)
    inside, leave = threading.Event(), threading.Event()

    @app.get('/test/hold')
    def hold():  # a request that stays inside until the test lets it go
        inside.set()
        assert leave.wait(30)
        return {'held': True}
    app.inside, app.leave = inside, leave
    return app


def test_a_request_beyond_the_limit_waits_then_is_answered_503_and_the_next_gets_in(app):
    held = {}
    holder = threading.Thread(target=lambda: held.update(answer=app.test_client().get('/test/hold')))
    holder.start()
    try:
        assert app.inside.wait(30)
        refused = app.test_client().get('/healthz')
        assert refused.status_code == 503 and refused.headers['Retry-After'] == '1'
        assert refused.get_json()['error']['code'] == 'service_unavailable' and refused.get_json()['error']['message']
    finally:
        app.leave.set()
        holder.join(30)
    assert held['answer'].status_code == 200
    assert app.test_client().get('/healthz').status_code == 200  # the place it held is free again


def test_a_request_waiting_in_line_gets_in_when_a_place_frees(make_app):
    app = make_app(web_in_flight=1, web_queue_wait_s=30)
    inside, leave = threading.Event(), threading.Event()

    @app.get('/test/hold')
    def hold():
        inside.set()
        assert leave.wait(30)
        return {'held': True}
    holder = threading.Thread(target=lambda: app.test_client().get('/test/hold'))
    holder.start()
    assert inside.wait(30)
    waited = {}
    waiter = threading.Thread(target=lambda: waited.update(answer=app.test_client().get('/healthz')))
    waiter.start()
    leave.set()
    waiter.join(30)
    holder.join(30)
    assert waited['answer'].status_code == 200


def test_an_open_live_stream_holds_no_place_in_the_line(app, deps):
    share = forming_group(deps)
    stream = app.test_client().get(f'/api/groups/{share}/events', buffered=False)
    try:
        assert next(stream.response).startswith(b'retry:')  # streaming
        assert app.test_client().get('/healthz').status_code == 200  # the only place is free
    finally:
        stream.close()


class _SlowBody:
    """A request body whose client has sent nothing yet: reading blocks until the test lets the bytes through.
    (werkzeug's test client measures a body by seeking, hence tell/seek.)"""

    def __init__(self, body: bytes):
        self.body, self.at = body, 0
        self.sent, self.reading = threading.Event(), threading.Event()

    def tell(self):
        return self.at

    def seek(self, offset, whence=0):
        self.at = len(self.body) if whence == 2 else offset
        return self.at

    def read(self, size=-1):
        self.reading.set()
        assert self.sent.wait(30)
        size = len(self.body) - self.at if size is None or size < 0 else size
        chunk = self.body[self.at:self.at + size]
        self.at += len(chunk)
        return chunk


def test_a_client_sending_its_body_slowly_holds_no_place_inside(make_app):
    app = make_app(web_in_flight=1, web_queue_wait_s=0.5)
    body = _SlowBody(b'{}')
    slow = {}
    sender = threading.Thread(target=lambda: slow.update(answer=app.test_client().post(
        '/api/auth/wxlogin', input_stream=body, content_type='application/json', content_length=2)))
    sender.start()
    try:
        assert body.reading.wait(30)  # the slow client's body is being read; none of it has come yet
        assert app.test_client().get('/healthz').status_code == 200  # the one place inside is free
    finally:
        body.sent.set()
        sender.join(30)
    assert slow['answer'].status_code == 400  # then it is served like any other (a login without a code)
    assert slow['answer'].get_json()['error']['code'] == 'invalid_input'


def test_a_body_over_the_limit_is_refused_413_without_being_read_first(make_app):
    app = make_app(web_in_flight=1)
    answer = app.test_client().post('/api/auth/wxlogin', data=b'x' * (300 * 1024), content_type='application/json')
    assert answer.status_code == 413 and answer.get_json()['error']['code']


def test_a_request_without_a_body_is_not_read_at_the_door(make_app):
    app = make_app(web_in_flight=1)
    seen = {}

    @app.get('/test/input')
    def input_kind():
        seen['input'] = request.environ['wsgi.input']
        return {'ok': True}
    stream = _SlowBody(b'')
    stream.sent.set()
    environ = EnvironBuilder(path='/test/input').get_environ()  # a GET as gunicorn hands it over: no length,
    environ.pop('CONTENT_LENGTH', None)  # an input that ends
    environ.update({'wsgi.input': stream, 'wsgi.input_terminated': True})
    _, status, _ = run_wsgi_app(app, environ)
    assert status.startswith('200')
    assert not stream.reading.is_set() and seen['input'] is stream  # untouched: no read, no copy


def test_a_freed_place_goes_to_the_longest_waiting_request_not_to_one_arriving_then():
    """First come, first served: under a crowd, newcomers taking each freed place kept a waiter out until its wait
    ran out (a 503 in a flash-sale run whose 99th percentile waited 10 s)."""
    line = Admission(lambda environ, start_response: [], limit=1, wait_s=30, max_body=0)
    assert line.enter(0)  # the only place
    admitted = []
    waiter = threading.Thread(target=lambda: admitted.append(line.enter(30)))
    waiter.start()
    wait_for(lambda: len(line.waiting) == 1, 30, 'the request in line')
    line.leave()  # the place is handed to the waiter ...
    assert not line.enter(0)  # ... not to a request arriving at this moment
    waiter.join(30)
    assert admitted == [True]
    assert (line.free, list(line.waiting)) == (0, [])  # the waiter holds the place; nobody left in line
    line.leave()
    assert line.free == 1


def test_a_request_whose_wait_runs_out_leaves_the_line():
    line = Admission(lambda environ, start_response: [], limit=1, wait_s=30, max_body=0)
    assert line.enter(0)
    assert not line.enter(0.05)
    assert list(line.waiting) == []  # not handed the next free place when it has gone
    line.leave()
    assert line.enter(0)


@pytest.mark.parametrize('handed_first', [False, True])
def test_a_request_killed_while_in_line_takes_no_place_with_it(monkeypatch, handed_first):
    """A waiting request that is killed (a gevent worker stopping) leaves the line; a place handed to it just
    before is passed on, not lost."""
    line = Admission(lambda environ, start_response: [], limit=1, wait_s=30, max_body=0)
    assert line.enter(0)

    class Killed(threading.Event):
        def wait(self, timeout=None):
            if handed_first:
                line.leave()  # the holder leaves: the place is handed to this waiter ...
            raise KeyboardInterrupt  # ... which is killed before it runs
    monkeypatch.setattr('miniapp_api.admission.threading.Event', Killed)
    with pytest.raises(KeyboardInterrupt):
        line.enter(30)
    assert list(line.waiting) == []
    assert line.free == (1 if handed_first else 0)  # passed on when it had been handed one; else still held
