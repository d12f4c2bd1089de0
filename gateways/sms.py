"""SMS through a provider port. The default provider sends nothing: it logs the text and keeps it
in the `sms_message` table, so a deployment without an SMS contract still works and tests can read
what would have gone out. A real provider (Aliyun, Tencent Cloud SMS) implements `send(phone, text)`."""
import logging

from groupbuy.models import utcnow
from groupbuy.notifications import keep_sms

log = logging.getLogger(__name__)


class LoggingSmsProvider:
    def send(self, phone: str, text: str) -> None:
        log.info('SMS to %s: %s', phone[:3] + '****' + phone[-4:], text)
        keep_sms(phone, text, utcnow())
