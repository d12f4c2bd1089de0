"""What api.weixin.qq.com remembers between calls: the access tokens it issued, the login codes it has
seen, and which apps are bound to an open-platform account (only their users get a unionid).

Times are seconds on the sandbox clock (`clock.py`, moved by `POST /sandbox/clock`), so a test reaches a
token's or a code's expiry without sleeping. `/sandbox/reset` forgets all of it (control.reset).
"""
import secrets
import threading
from collections import Counter

TOKEN_TTL_S = 7200  # expires_in of /cgi-bin/token
TOKEN_GRACE_S = 300  # WeChat: after a new token is fetched, the previous one keeps working for 5 minutes
CODE_TTL_S = 300  # a wx.login code is good for 5 minutes, and once


class AccessTokens:
    """Tokens per app. Fetching a new one cuts the previous one down to 5 more minutes (WeChat's overlap
    for servers that share a token); past its 2 hours a token has expired (42001); an unknown or
    replaced-and-overlapped one is invalid (40001)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self._tokens, self._latest, self.issued = {}, {}, Counter()

    def issue(self, appid, now):
        token = secrets.token_urlsafe(96)
        with self.lock:
            previous = self._tokens.get(self._latest.get(appid))
            if previous is not None:
                previous["overlap_until"] = min(previous["overlap_until"], now + TOKEN_GRACE_S)
            self._tokens[token] = {"appid": appid, "expires": now + TOKEN_TTL_S, "overlap_until": float("inf")}
            self._latest[appid] = token
            self.issued[appid] += 1
        return token

    def check(self, token, now):
        """0 if `token` works now, else WeChat's errcode."""
        with self.lock:
            entry = self._tokens.get(token)
        if entry is None:
            return 40001
        if now >= entry["expires"]:
            return 42001
        return 40001 if now >= entry["overlap_until"] else 0


class LoginCodes:
    """wx.login codes: each works once (then 40163) and within 5 minutes of being issued (then 40029).
    A code the sandbox did not mint is issued the moment it is first seen, so a hand-made code works
    once, too."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self._codes = {}

    def mint(self, name, now):
        code = f"{name}.{secrets.token_hex(6)}"
        with self.lock:
            self._codes[code] = {"issued": now, "used": False}
        return code

    def redeem(self, code, now):
        """0 (the code is now spent), 40163 used before, or 40029 expired."""
        with self.lock:
            seen = self._codes.setdefault(code, {"issued": now, "used": False})
            if seen["used"]:
                return 40163
            if now - seen["issued"] > CODE_TTL_S:
                return 40029
            seen["used"] = True
            return 0


class OpenPlatform:
    """Which apps are bound to an open-platform account (UnionID mechanism): default all, except the
    `SANDBOX_UNBOUND_APPS` setting; `POST /sandbox/open-platform` switches one for a test."""

    def __init__(self, unbound=()):
        self.lock = threading.Lock()
        self._default = frozenset(unbound)
        self.reset()

    def reset(self):
        with self.lock:
            self._unbound = set(self._default)

    def bound(self, appid):
        with self.lock:
            return appid not in self._unbound

    def set_bound(self, appid, bound):
        with self.lock:
            (self._unbound.discard if bound else self._unbound.add)(appid)
