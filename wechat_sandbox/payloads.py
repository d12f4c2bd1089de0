"""The bodies WeChat posts to notify_url: payment result and refund result.

Built here, apart from delivery, so a replayed notification carries the same content
as the first one (only nonce_str and sign differ, as with real WeChat).
"""
import base64
import hashlib
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.pay.utils import dict_to_xml

from . import ids
from .xmlproto import signed_xml


def payment_notify(order, settings):
    """Signed payment result, under the appid the order was made for. Signed with the order's sign_type
    and, like WeChat, without a sign_type field: an HMAC-SHA256 order yields a notification that
    `WeChatPay.parse_payment_result` (MD5 only) rejects, exactly as in production."""
    fields = {
        "appid": order["appid"], "mch_id": settings.mch_id, "nonce_str": ids.nonce(),
        "return_code": "SUCCESS", "result_code": "SUCCESS",
        "openid": order["openid"], "is_subscribe": "N", "trade_type": order["trade_type"],
        "bank_type": "OTHERS", "total_fee": order["total_fee"], "cash_fee": order["total_fee"],
        "fee_type": "CNY", "transaction_id": order["transaction_id"],
        "out_trade_no": order["out_trade_no"], "time_end": order["time_end"],
        "attach": order.get("attach"),
    }
    return signed_xml(fields, settings, order["sign_type"])


def encrypt_req_info(plaintext, api_key):
    """AES-256-ECB, key = lowercase hex MD5 of the API key, PKCS7 padding, base64."""
    key = hashlib.md5(api_key.encode("utf-8")).hexdigest().encode("ascii")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def refund_notify(refund, settings):
    """Refund result under the order's appid: unsigned outer XML, details encrypted in req_info (a <root> doc)."""
    inner = {
        "out_refund_no": refund["out_refund_no"], "out_trade_no": refund["out_trade_no"],
        "refund_id": refund["refund_id"], "transaction_id": refund["transaction_id"],
        "total_fee": refund["total_fee"], "refund_fee": refund["refund_fee"],
        "settlement_total_fee": refund["total_fee"],
        "settlement_refund_fee": refund["refund_fee"], "refund_status": refund["status"],
        "success_time": refund["success_time"], "refund_recv_accout": "支付用户零钱",
        "refund_account": refund["refund_account"], "refund_request_source": "API",
    }
    root = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in inner.items()
                   if v is not None)
    outer = {
        "return_code": "SUCCESS", "appid": refund["appid"], "mch_id": settings.mch_id,
        "nonce_str": ids.nonce(),
        "req_info": encrypt_req_info(f"<root>{root}</root>", settings.api_key),
    }
    return dict_to_xml(outer)
