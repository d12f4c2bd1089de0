"""WeChat's documented errcodes of the JSON APIs the app calls, with WeChat's errmsg: what the sandbox
answers by its own rules, and the only codes `POST /sandbox/api/fail-next` can force on an API (the
rare ones no rule produces: -1 system busy, 45011 rate limit, 40226 a high-risk user...). The app must
cope with exactly these, so the sandbox offers nothing else.
"""
import secrets

from flask import jsonify

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    40164: "invalid ip, not in whitelist",
    40169: "invalid length for scene, or the data is not json string",
    40226: "code blocked: high risk user",
    41001: "access_token missing",
    41030: "invalid page",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
}

# Every API that takes an access_token can answer these.
_TOKEN_API = (-1, 40001, 42001, 45009, 45011)

FORCIBLE = {
    "cgi-bin/token": (-1, 40001, 40013, 40125, 40164, 45009, 45011),
    "sns/jscode2session": (-1, 40029, 40163, 40226, 45011),  # code2Session's table, plus "code been used"
    "sns/oauth2/access_token": (-1, 40029, 40163, 45011),
    "sns/userinfo": (-1, 40001, 40003, 48001),
    "cgi-bin/user/info": _TOKEN_API + (40003,),
    "cgi-bin/message/subscribe/send": _TOKEN_API + (40003, 40037, 41030, 43101, 47003),
    "cgi-bin/message/template/send": _TOKEN_API + (40003, 40037, 43004, 47003),
    "cgi-bin/message/custom/send": _TOKEN_API + (40003, 45015, 45047),
    "cgi-bin/ticket/getticket": _TOKEN_API,
    "cgi-bin/qrcode/create": _TOKEN_API,
    "cgi-bin/media/upload": _TOKEN_API,
    "wxa/getwxacodeunlimit": _TOKEN_API + (40169, 41030),
    "wxa/business/getuserphonenumber": _TOKEN_API + (40029, 47001),
}


def wx_error(errcode, errmsg=None):
    """WeChat answers errors with HTTP 200, an errcode and an errmsg ending in a request id; wechatpy
    relies on that."""
    return jsonify({"errcode": errcode, "errmsg": f"{errmsg or ERRMSG.get(errcode, 'error')} "
                                                  f"rid: {secrets.token_hex(6)}"})
