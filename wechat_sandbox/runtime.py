"""The per-app bundle (settings, store, notifier) and how request handlers find it.

Kept in `app.extensions` rather than module globals so several sandboxes (one per
test module, say) can live in one process without sharing state.
"""
from dataclasses import dataclass

from flask import current_app

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


def current():
    return current_app.extensions[EXTENSION]
