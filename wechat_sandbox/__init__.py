"""WeChat sandbox: a local Flask server speaking the WeChat protocols wechatpy speaks.

Production points wechatpy at WeChat; tests and the demo point it at this server by
base URL, so the app's real WeChat code paths run offline. See docs/SANDBOX.md.
"""
import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from . import bot_driver, cashier, control, gate, jsbridge, login, messages, oa_api, oauth, pay, refunds, wxa
from .api_state import OpenPlatform
from .notifier import Notifier
from .oa_state import OaState
from .runtime import EXTENSION, Sandbox
from .settings import load_settings
from .store import Store

__all__ = ["create_sandbox_app"]

log = logging.getLogger(__name__)


def create_sandbox_app(config=None):
    """Build the sandbox app. `config` overrides env vars by name (see settings.py).

    The live state is `app.extensions["wechat_sandbox"]` (settings, store, notifier);
    call `.notifier.shutdown()` when done to stop pending notification retries.
    """
    settings = load_settings(config)
    store = Store()
    app = Flask(__name__)
    app.extensions[EXTENSION] = Sandbox(settings, store, Notifier(store, settings.notify_retry_s),
                                        messages.MessageLog(), OaState(),
                                        open_platform=OpenPlatform(settings.unbound_apps))
    for blueprint in (login.bp, pay.bp, cashier.bp, jsbridge.bp, refunds.bp, messages.bp, control.bp,
                      oauth.bp, oa_api.bp, wxa.bp, bot_driver.bp, gate.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(control.ControlError, control.control_error)

    @app.after_request
    def _allow_pages(response):
        # The demo's H5 page plays the paying user from the browser: let it call the control API.
        if request.path.startswith("/sandbox/"):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        if request.path.startswith("/sandbox/"):
            return control.error_response(exc.code, exc.name.lower().replace(" ", "_"),
                                          exc.description)
        return exc

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("wechat sandbox: unexpected error on %s", request.path)
        return control.error_response(500, "internal_error", f"{type(exc).__name__}: {exc}")

    return app
