"""The line at the door (miniapp_api/admission.py): a web process works on at most WEB_IN_FLIGHT requests at
once; the next waits, and only one that waited WEB_QUEUE_WAIT_S in vain is answered 503 with Retry-After — the
JSON error, never a 500. A live stream passes the door at once: an open stream holds no place in the line."""
import threading

import pytest

from tests.integration.test_rate_limits import forming_group


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
