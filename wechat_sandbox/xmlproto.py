"""WeChat Pay v2 wire format: signed XML in, signed XML out, two levels of error.

WeChat answers protocol problems (bad XML, wrong appid/mch_id, bad signature) with
return_code FAIL and an unsigned return_msg, and business problems (order already
paid...) with return_code SUCCESS, result_code FAIL and err_code/err_code_des, signed.
wechatpy raises WeChatPayException for both; the app must see the same shapes.
"""
import hmac
import ipaddress
import re
from functools import wraps
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

import xmltodict
from flask import Response, request
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac, dict_to_xml

from . import ids
from .codes import FORCIBLE
from .runtime import current

SIGNERS = {"MD5": calculate_signature, "HMAC-SHA256": calculate_signature_hmac}
MERCHANT_NO = re.compile(r"[0-9A-Za-z_\-|*@]+")  # what out_trade_no and out_refund_no may be made of


class ProtocolError(Exception):
    def __init__(self, return_msg):
        super().__init__(return_msg)
        self.return_msg = return_msg


class BusinessError(Exception):
    def __init__(self, err_code, err_code_des):
        super().__init__(f"{err_code}: {err_code_des}")
        self.err_code = err_code
        self.err_code_des = err_code_des


def sign(fields, api_key, sign_type="MD5"):
    return SIGNERS[sign_type](fields, api_key)


def parse_xml(raw):
    """The <xml> element of a request as a flat dict of strings."""
    if not raw or not raw.strip():
        raise ProtocolError("post数据为空")
    try:
        doc = xmltodict.parse(raw)
    except (ExpatError, ValueError, xmltodict.ParsingInterrupted):
        raise ProtocolError("XML格式错误") from None
    data = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or any(
            v is not None and not isinstance(v, str) for v in data.values()):
        raise ProtocolError("XML格式错误")
    return {k: v for k, v in data.items() if v is not None}


def verify_request(raw, settings):
    """Parse and authenticate a merchant request; returns (fields without sign, sign_type)."""
    data = parse_xml(raw)
    for name in ("appid", "mch_id", "nonce_str", "sign"):
        if not data.get(name):
            raise ProtocolError(f"缺少参数{name}")
    sign_type = data.get("sign_type", "MD5")
    if sign_type not in SIGNERS:
        raise ProtocolError("sign_type参数格式错误")
    if data["appid"] not in settings.merchant_apps:
        raise ProtocolError("appid不存在")
    if data["mch_id"] != settings.mch_id:
        raise ProtocolError("商户号mch_id与appid不匹配")
    given = data.pop("sign")
    if not hmac.compare_digest(given.encode(), sign(data, settings.api_key, sign_type).encode()):
        raise ProtocolError("签名错误")
    return data, sign_type


def xml_response(text):
    return Response(text, content_type="text/xml; charset=utf-8")


def protocol_fail(return_msg):
    return xml_response(dict_to_xml({"return_code": "FAIL", "return_msg": return_msg}))


def signed_xml(fields, settings, sign_type="MD5"):
    """Signed XML with every value as a string (so 0 survives signing and parsing)."""
    body = {k: str(v) for k, v in fields.items() if v is not None and v != ""}
    return dict_to_xml(body, sign(body, settings.api_key, sign_type))


def pay_endpoint(api):
    """Turn handler(fields) -> result fields into the WeChat Pay v2 XML endpoint `api` (a key of
    codes.FORCIBLE). An authenticated call first takes any failure forced by `/sandbox/pay/fail-next`."""
    def decorate(handler):
        @wraps(handler)
        def view():
            sandbox = current()
            settings = sandbox.settings
            appid = settings.app_id
            try:
                data, sign_type = verify_request(request.get_data(), settings)
                appid = data["appid"]  # WeChat answers under the appid it was asked with
                forced = sandbox.store.take_next(f"fail:{api}")
                if forced:
                    raise BusinessError(forced, FORCIBLE[api][forced])
                result = {"result_code": "SUCCESS", **handler(data)}
            except ProtocolError as exc:
                return protocol_fail(exc.return_msg)
            except BusinessError as exc:
                result = {"result_code": "FAIL", "err_code": exc.err_code,
                          "err_code_des": exc.err_code_des}
            head = {"return_code": "SUCCESS", "return_msg": "OK", "appid": appid,
                    "mch_id": settings.mch_id, "nonce_str": ids.nonce()}
            return xml_response(signed_xml({**head, **result}, settings, sign_type))
        return view
    return decorate


def require(data, *names):
    for name in names:
        if not data.get(name):
            raise BusinessError("LACK_PARAMS", f"缺少参数{name}")


def positive_int(data, name):
    value = data.get(name, "")
    if not (value.isascii() and value.isdigit()) or int(value) <= 0:
        raise BusinessError("PARAM_ERROR", f"{name}参数错误，须为正整数（分）")
    return int(value)


def check_lengths(data, limits):
    """WeChat measures String(n) fields in UTF-8 bytes and refuses a longer one at the protocol
    level (return_code FAIL, "<name>参数长度有误")."""
    for name, limit in limits.items():
        if len(data.get(name, "").encode("utf-8")) > limit:
            raise ProtocolError(f"{name}参数长度有误")


def check_ip(data, name="spbill_create_ip"):
    """An IPv4 or IPv6 address (no host names, no zone ids), else return_code FAIL."""
    value = data.get(name, "")
    try:
        valid = "%" not in value and bool(ipaddress.ip_address(value))
    except ValueError:
        valid = False
    if not valid:
        raise ProtocolError(f"invalid {name}")


def check_notify_url(data, name="notify_url"):
    """A full http(s) URL without parameters: WeChat posts to it as it is."""
    url = data.get(name)
    if url is None:
        return
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BusinessError("INVALID_REQUEST", f"{name}须为http或https开头的完整地址")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise BusinessError("INVALID_REQUEST", f"{name}不能携带参数")
