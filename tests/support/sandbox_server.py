"""The WeChat sandbox, and what stands in for the app around it, served over real HTTP for the
integration tests that drive it the way the app does: through wechatpy, on free loopback ports.

One place for it, so every such test module starts, points at and stops the sandbox the same way
(notification retries stopped before the server, so no delivery outlives its module), and only says
what is its own: the settings its sandbox runs with (retry intervals, refund delays)."""
import threading
from contextlib import contextmanager
from functools import partial

import requests
from wechatpy import WeChatClient
from wechatpy.pay import WeChatPay
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from wechat_sandbox import create_sandbox_app
from wechat_sandbox.credentials import (
    DEFAULT_API_KEY,
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_MCH_ID,
)


def serve(wsgi_app):
    """(server, base URL without a trailing slash): `wsgi_app` answering on a free loopback port from a
    daemon thread, so a test reaches it over HTTP like the real thing; call `server.shutdown()` after."""
    server = make_server('127.0.0.1', 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f'http://127.0.0.1:{server.server_port}'


@contextmanager
def running_sandbox(settings=None):
    """(sandbox app, base URL without a trailing slash) for the block: `create_sandbox_app(settings)`
    served on a free port. On the way out its pending notification retries stop, then its server."""
    app = create_sandbox_app(settings)
    server, base = serve(app)
    try:
        yield app, base
    finally:
        app.extensions['wechat_sandbox'].notifier.shutdown()
        server.shutdown()


def reset_sandbox(base):
    """`base` (the sandbox's URL, as given) after `POST /sandbox/reset`: the sandbox forgets its memory
    (orders, tokens, login codes, messages), its switches and its clock moves."""
    requests.post(base.rstrip('/') + '/sandbox/reset', timeout=5)
    return base


ANSWERS = {  # what a notify endpoint may answer WeChat: acknowledged, refused, or broken
    'SUCCESS': (200, '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>'),
    'FAIL': (200, ('<xml><return_code><![CDATA[FAIL]]></return_code>'
                   '<return_msg><![CDATA[busy]]></return_msg></xml>')),
    '500': (500, 'internal error'),
}


class Receiver:
    """Plays the app's notify URLs for the sandbox's deliveries: keeps every body under its URL path and
    answers as scripted for that path (SUCCESS unless told), so a test sees what WeChat delivered and
    how WeChat reacts to the answer. `base` is set by `running_receiver`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.scripts, self.received = {}, {}
        self.base = None

    def script(self, path, *answers):
        """Answers (keys of ANSWERS) for successive deliveries to `path`; the last one repeats."""
        with self.lock:
            self.scripts[path] = list(answers)

    def bodies(self, path):
        """The bodies delivered to `path` so far, oldest first."""
        with self.lock:
            return list(self.received.get(path, []))

    def __call__(self, environ, start_response):
        req = Request(environ)
        with self.lock:
            self.received.setdefault(req.path, []).append(req.get_data(as_text=True))
            script = self.scripts.get(req.path) or ['SUCCESS']
            answer = script.pop(0) if len(script) > 1 else script[0]
        status, body = ANSWERS[answer]
        return Response(body, status=status, content_type='text/xml')(environ, start_response)


@contextmanager
def running_receiver():
    """A Receiver served on a free port for the block, its `base` the URL (no trailing slash)."""
    receiver = Receiver()
    server, receiver.base = serve(receiver)
    try:
        yield receiver
    finally:
        server.shutdown()


def pay_client(base):
    """wechatpy's WeChatPay as the app builds it (the sandbox's merchant), sending to the sandbox at `base`."""
    client = WeChatPay(DEFAULT_APP_ID, DEFAULT_API_KEY, DEFAULT_MCH_ID)
    client.API_BASE_URL = base.rstrip('/') + '/'
    return client


class SandboxClient(WeChatClient):
    """wechatpy's WeChatClient as shipped, every API it calls (its hard-coded token URL too) pointed at
    the sandbox at `base`. `auto_retry=False` sees exactly what WeChat answers, with no renewal."""

    def __init__(self, base, access_token=None, appid=DEFAULT_APP_ID, secret=DEFAULT_APP_SECRET, auto_retry=True):
        super().__init__(appid, secret, access_token=access_token, auto_retry=auto_retry)
        self._sandbox_base = base.rstrip('/')
        self.API_BASE_URL = self._sandbox_base + '/cgi-bin/'
        self.wxa.API_BASE_URL = self._sandbox_base + '/'

    def fetch_access_token(self):
        return self._fetch_access_token(url=self._sandbox_base + '/cgi-bin/token', params={
            'grant_type': 'client_credential', 'appid': self.appid, 'secret': self.secret})


# wechatpy as shipped, pointed at the sandbox, never retrying: sees exactly what WeChat answers (and what the
# app's client does for code2Session)
PlainClient = partial(SandboxClient, auto_retry=False)
