"""WeChat Pay v2's documented err_code and err_code_des, per API, for failures a switch can force.

Only codes WeChat documents for that API (the 错误码 tables of unifiedorder, orderquery, closeorder,
refund and refundquery), with the table's description as err_code_des: the app must cope with
exactly these, so the sandbox offers nothing else. Failures that follow from an order's state
(ORDERPAID, ORDERCLOSED, REFUND_FEE_MISMATCH...) are the endpoints' own, never forced.
"""

FORCIBLE = {
    "unifiedorder": {
        "SYSTEMERROR": "系统错误",
        "NOAUTH": "商户无此接口权限",
        "NOTENOUGH": "余额不足",
    },
    "orderquery": {"SYSTEMERROR": "系统错误"},
    "closeorder": {"SYSTEMERROR": "系统错误"},
    "refund": {
        "SYSTEMERROR": "接口返回错误",
        "BIZERR_NEED_RETRY": "退款业务流程错误，需要商户触发重试来解决",
        "TRADE_OVERDUE": "订单已经超过退款期限",
        "ERROR": "业务错误",
        "USER_ACCOUNT_ABNORMAL": "退款请求失败",
        "INVALID_REQ_TOO_MUCH": "无效请求过多",
        "NOTENOUGH": "余额不足",
        "FREQUENCY_LIMITED": "频率限制",
        "NOAUTH": "异常IP请求不予受理",
        "CERT_ERROR": "证书校验错误",
        "ORDER_NOT_READY": "订单处理中，暂时无法退款，请稍后再试",
        "INVALID_REQUEST": "请求参数符合参数格式，但不符合业务规则",
    },
    "refundquery": {"SYSTEMERROR": "接口返回错误"},
}

# How a refund can end besides SUCCESS (refund notification refund_status, refundquery refund_status_$n).
REFUND_ENDINGS = {"CHANGE": "退款异常", "REFUNDCLOSE": "退款关闭"}
