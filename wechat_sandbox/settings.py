"""Sandbox settings: env vars read once at create time, overridable by tests.

Keys are the env var names, so `create_sandbox_app({"SANDBOX_REFUND_DELAY_S": 0.1})`
and `SANDBOX_REFUND_DELAY_S=0.1 python -m wechat_sandbox` mean the same thing.
"""
import os
from dataclasses import dataclass

from .credentials import (DEFAULT_API_KEY, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_MCH_ID,
                          DEFAULT_OA_AES_KEY, DEFAULT_OA_APP_ID, DEFAULT_OA_APP_SECRET, DEFAULT_OA_TOKEN)

# WeChat's own schedule: about 24 h of retries for an unanswered notification.
DEFAULT_NOTIFY_RETRY_S = "15,15,30,180,600,1200,1800,1800,1800,3600,10800,10800,10800,21600,21600"

DEFAULTS = {
    "WECHAT_APP_ID": DEFAULT_APP_ID,
    "WECHAT_APP_SECRET": DEFAULT_APP_SECRET,
    "WECHAT_MCH_ID": DEFAULT_MCH_ID,
    "WECHAT_API_KEY": DEFAULT_API_KEY,
    "SANDBOX_NOTIFY_RETRY_S": DEFAULT_NOTIFY_RETRY_S,
    "SANDBOX_REFUND_DELAY_S": "1",
    "WECHAT_OA_APP_ID": DEFAULT_OA_APP_ID,
    "WECHAT_OA_APP_SECRET": DEFAULT_OA_APP_SECRET,
    "WECHAT_OA_TOKEN": DEFAULT_OA_TOKEN,
    "WECHAT_OA_AES_KEY": DEFAULT_OA_AES_KEY,
    # Where /sandbox/bot/send delivers by default: the app started beside us (same PORT as `flask up`).
    "SANDBOX_BOT_CALLBACK_URL": "",
    # appids NOT bound to an open-platform account: WeChat gives their users no unionid (comma-separated)
    "SANDBOX_UNBOUND_APPS": "",
}


@dataclass(frozen=True)
class Settings:
    app_id: str
    app_secret: str
    mch_id: str
    api_key: str
    notify_retry_s: tuple  # seconds to wait before each retry of a notification
    refund_delay_s: float
    oa_app_id: str = DEFAULT_OA_APP_ID
    oa_app_secret: str = DEFAULT_OA_APP_SECRET
    oa_token: str = DEFAULT_OA_TOKEN
    oa_aes_key: str = DEFAULT_OA_AES_KEY
    bot_callback_url: str = ""
    unbound_apps: frozenset = frozenset()

    @property
    def merchant_apps(self):
        """The appids bound to the merchant (商户平台 → AppID账号管理): the mini-program and the official account
        both pay into the one mch_id, with the one API key; an order belongs to the appid it was made under."""
        return (self.app_id, self.oa_app_id)


def _seconds(value, name):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a number of seconds") from None
    if seconds < 0:
        raise ValueError(f"{name}: {value!r} must not be negative")
    return seconds


def _retry_list(value):
    parts = value.split(",") if isinstance(value, str) else list(value)
    parts = [p.strip() if isinstance(p, str) else p for p in parts]
    return tuple(_seconds(p, "SANDBOX_NOTIFY_RETRY_S") for p in parts if p != "")


def _appids(value):
    parts = value.split(",") if isinstance(value, str) else list(value)
    return frozenset(p.strip() for p in parts if p.strip())


def load_settings(overrides=None):
    """Defaults < environment < overrides (a dict keyed by env var name)."""
    raw = dict(DEFAULTS)
    raw.update({k: os.environ[k] for k in DEFAULTS if k in os.environ})
    raw.update(overrides or {})
    return Settings(
        app_id=str(raw["WECHAT_APP_ID"]),
        app_secret=str(raw["WECHAT_APP_SECRET"]),
        mch_id=str(raw["WECHAT_MCH_ID"]),
        api_key=str(raw["WECHAT_API_KEY"]),
        notify_retry_s=_retry_list(raw["SANDBOX_NOTIFY_RETRY_S"]),
        refund_delay_s=_seconds(raw["SANDBOX_REFUND_DELAY_S"], "SANDBOX_REFUND_DELAY_S"),
        oa_app_id=str(raw["WECHAT_OA_APP_ID"]),
        oa_app_secret=str(raw["WECHAT_OA_APP_SECRET"]),
        oa_token=str(raw["WECHAT_OA_TOKEN"]),
        oa_aes_key=str(raw["WECHAT_OA_AES_KEY"]),
        bot_callback_url=str(raw["SANDBOX_BOT_CALLBACK_URL"]
                             or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}/wechat/callback"),
        unbound_apps=_appids(raw["SANDBOX_UNBOUND_APPS"]),
    )
