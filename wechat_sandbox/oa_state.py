"""What the sandbox remembers as the official account: OAuth codes and tokens, test users'
openids, parametric QR codes, uploaded media and who follows. One lock guards it all."""
import itertools
import secrets
import threading

from .api_state import CODE_TTL_S  # an OAuth code works 5 minutes, once, too
from .login import openid_for, unionid_for
from .runtime import now_s  # the sandbox clock: OAuth codes expire when tests move it


class OaState:
    def __init__(self):
        self.lock = threading.Lock()
        self.codes, self.tokens, self.names = {}, {}, {}
        self.qrcodes, self.media, self.followers = {}, {}, set()
        self.ticket_calls = 0
        self._qr_ids = itertools.count(1)

    def user(self, appid, name):
        """(openid, unionid) of test user `name` in the official account; remembered for lookups."""
        openid = openid_for(appid, name)
        with self.lock:
            self.names[openid] = name
        return openid, unionid_for(name)

    def name_of(self, openid):
        with self.lock:
            return self.names.get(openid)

    def issue_code(self, name, scope):
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"name": name, "scope": scope, "expires": now_s() + CODE_TTL_S,
                                "used": False}
        return code

    def redeem_code(self, code):
        """The code's grant, or an errcode: 40029 unknown or expired, 40163 used before."""
        with self.lock:
            grant = self.codes.get(code)
            if grant is None or grant["expires"] < now_s():
                return None, 40029
            if grant["used"]:
                return None, 40163
            grant["used"] = True
            token = secrets.token_urlsafe(48)
            self.tokens[token] = dict(grant)
            return token, 0

    def token_grant(self, token):
        with self.lock:
            return self.tokens.get(token)

    def add_qrcode(self, scene, expire_seconds, permanent):
        with self.lock:
            qr_id = next(self._qr_ids)
            ticket = f"gQ{qr_id:06d}" + secrets.token_urlsafe(24)
            self.qrcodes[ticket] = {"scene": scene, "url": f"http://weixin.qq.com/q/sandbox{qr_id:06d}",
                                    "expire_seconds": None if permanent else expire_seconds}
            return ticket, self.qrcodes[ticket]

    def qrcode(self, ticket):
        with self.lock:
            return self.qrcodes.get(ticket)

    def set_following(self, openid, following):
        with self.lock:
            (self.followers.add if following else self.followers.discard)(openid)

    def follows(self, openid):
        with self.lock:
            return openid in self.followers
