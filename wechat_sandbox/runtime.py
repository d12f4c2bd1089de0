"""The per-app bundle (settings, store, notifier, ...) and how request handlers find it.

Kept in `app.extensions` rather than module globals so several sandboxes (one per
test module, say) can live in one process without sharing state.
"""
from dataclasses import dataclass, field

from flask import current_app

from . import clock
from .api_state import AccessTokens, LoginCodes, OpenPlatform
from .notifier import Notifier
from .settings import Settings
from .store import Store

EXTENSION = "wechat_sandbox"


@dataclass
class Sandbox:
    settings: Settings
    store: Store
    notifier: Notifier
    messages: object = None  # messages.MessageLog
    oa: object = None  # oa_state.OaState: OAuth, QR codes, media, followers
    tokens: AccessTokens = field(default_factory=AccessTokens)
    login_codes: LoginCodes = field(default_factory=LoginCodes)
    open_platform: OpenPlatform = None  # built from settings.unbound_apps by create_sandbox_app


def current():
    return current_app.extensions[EXTENSION]


def now_s():
    """Seconds since the epoch on the sandbox clock (the one `POST /sandbox/clock` moves)."""
    return clock.now(current().store).timestamp()
