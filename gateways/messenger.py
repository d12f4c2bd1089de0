"""The domain's Messenger port over wechatpy (subscribe and template messages) and the SMS port.
Text and field mapping come from the catalogue in templates_msg/."""
import logging
from collections.abc import Mapping

from wechatpy.exceptions import WeChatClientException

import templates_msg
from groupbuy.ports import MessengerError

log = logging.getLogger(__name__)

# WeChat errcodes meaning "this channel will not reach this user" (try the next one).
REFUSED = {43101: 'no subscribe consent', 43004: 'not a follower', 40003: 'invalid openid',
           43019: 'user blocked the account'}
# ...and "this channel will never carry this message as configured": a template id the account does not
# hold, data its keywords refuse, a page the mini-program lacks. Retrying cannot help, so the message
# passes to the next channel too, and the operator is told.
MISCONFIGURED = {40037: 'unknown template id', 47003: 'template data refused', 41030: 'unknown page'}


class WeChatMessenger:
    def __init__(self, mini_client, oa_client, mini_app_id: str, sms_provider,
                 templates: Mapping[str, tuple[str, str]] | None = None):
        """`templates`: kind -> (subscribe id, official-account id), `Settings.message_templates`."""
        self.mini = mini_client
        self.oa = oa_client
        self.mini_app_id = mini_app_id
        self.sms = sms_provider
        self.templates = templates_msg.default_template_ids() if templates is None else templates

    def subscribe_template(self, kind: str) -> str | None:
        return templates_msg.template_ids(kind, self.templates)[0]

    def send_subscribe(self, openid: str, kind: str, params: dict) -> None:
        message = templates_msg.render(kind, params)
        self._call(self.mini.wxa.send_subscribe_message, openid, self.subscribe_template(kind),
                   message.subscribe_data, page=message.page)

    def send_oa_template(self, oa_openid: str, kind: str, params: dict) -> None:
        template = templates_msg.template_ids(kind, self.templates)[1]
        if not template:
            raise MessengerError(f'no official-account template for {kind}', refused=True)
        message = templates_msg.render(kind, params)
        self._call(self.oa.message.send_template, oa_openid, template, message.oa_data,
                   mini_program={'appid': self.mini_app_id, 'pagepath': message.page})

    def send_sms(self, phone: str, kind: str, params: dict) -> None:
        try:
            self.sms.send(phone, templates_msg.render(kind, params).sms)
        except Exception as exc:  # noqa: BLE001 — any provider failure is a passing one
            raise MessengerError(f'SMS failed: {exc}', code='sms') from exc

    @staticmethod
    def _call(fn, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode in MISCONFIGURED:
                log.error('WeChat refused a message: %s (%s %s); fix the template settings',
                          MISCONFIGURED[exc.errcode], exc.errcode, exc.errmsg)
            reason = REFUSED.get(exc.errcode) or MISCONFIGURED.get(exc.errcode) or exc.errmsg or 'WeChat error'
            raise MessengerError(reason, code=str(exc.errcode),
                                 refused=exc.errcode in REFUSED or exc.errcode in MISCONFIGURED) from exc
        except OSError as exc:
            raise MessengerError(f'{type(exc).__name__}: {exc}', code='network') from exc
