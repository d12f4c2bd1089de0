"""`GET /sandbox/weixin-jsbridge.js?user=<name>`: WeChat's in-browser `WeixinJSBridge`, as the sandbox plays it.

A browser test injects it (Playwright's `add_init_script`) into a page it opens with WeChat's user agent; the app
never serves or includes it (in WeChat the client provides the bridge). Like WeChat's, the bridge appears only
after the page's own scripts have started, and says so with a `WeixinJSBridgeReady` event on `document`. Its
`invoke('getBrandWCPayRequest', params, callback)` hands the six server-signed fields to the JSAPI cashier
(`POST /sandbox/pay/jsapi`, cashier.py) as test user `user`, then calls back as WeChat does:
`{err_msg: 'get_brand_wcpay_request:ok'}`, `...:fail` (with `err_desc`, `err_code`: the cashier's refusal) or
`...:cancel` (`outcome=cancel`: the person closed the sheet). `ready_ms` holds the bridge back that much longer.
"""
import json

from flask import Blueprint, Response, request

from .control import ControlError
from .login import NAME

bp = Blueprint("wechat_jsbridge", __name__, url_prefix="/sandbox")

OUTCOMES = ("pay", "cancel")

SCRIPT = """/* The WeChat sandbox's WeixinJSBridge (wechat_sandbox/jsbridge.py): for tests, never served by the app. */
(function () {
  'use strict';
  var CASHIER = %(cashier)s, USER = %(user)s, OUTCOME = %(outcome)s, READY_MS = %(ready_ms)d;
  var SIGNED = ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'];
  var payments = [];  // what the cashier answered, oldest first (tests read WeixinJSBridge.payments)

  function pay(params, callback) {
    if (OUTCOME === 'cancel') { callback({ err_msg: 'get_brand_wcpay_request:cancel' }); return; }
    var body = { user: USER };
    SIGNED.forEach(function (name) { if (params && name in params) body[name] = params[name]; });
    fetch(CASHIER, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (answer) {
          payments.push(answer);
          callback(r.ok ? { err_msg: 'get_brand_wcpay_request:ok' }
            : { err_msg: 'get_brand_wcpay_request:fail', err_desc: answer.errMsg, err_code: answer.code });
        });
      })
      .catch(function (e) { callback({ err_msg: 'get_brand_wcpay_request:fail', err_desc: String(e) }); });
  }

  function invoke(name, params, callback) {
    callback = typeof callback === 'function' ? callback : function () {};
    if (name === 'getBrandWCPayRequest') pay(params, callback);
    else callback({ err_msg: name + ':fail_not_played_by_the_sandbox' });
  }

  function install() {
    if (window.WeixinJSBridge) return;
    window.WeixinJSBridge = { invoke: invoke, on: function () {}, call: function () {}, payments: payments };
    document.dispatchEvent(new Event('WeixinJSBridgeReady'));
  }

  function later() { setTimeout(install, READY_MS); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', later);
  else later();
})();
"""


def _js(value) -> str:
    return json.dumps(value).replace("<", "\\u003c")


@bp.get("/weixin-jsbridge.js")
def weixin_jsbridge():
    args = request.args
    user, outcome = args.get("user", ""), args.get("outcome", "pay")
    if not NAME.match(user):
        raise ControlError(400, "invalid_field", "'user' must be a test user name (letters, digits, _ -)")
    if outcome not in OUTCOMES:
        raise ControlError(400, "invalid_field", "'outcome' must be one of " + ", ".join(OUTCOMES))
    try:
        ready_ms = int(args.get("ready_ms", "0"))
    except ValueError:
        ready_ms = -1
    if not 0 <= ready_ms <= 60_000:
        raise ControlError(400, "invalid_field", "'ready_ms' must be 0 to 60000 milliseconds")
    script = SCRIPT % {"cashier": _js(request.host_url + "sandbox/pay/jsapi"), "user": _js(user),
                       "outcome": _js(outcome), "ready_ms": ready_ms}
    return Response(script, mimetype="application/javascript", headers={"Cache-Control": "no-store"})
