"""Blocklists: a user, a device, an address or its /24 (/64), a payer's openid — refused at open and join
while the entry is in force (`until`, or until removed). Entries are matched by exact value, so the check
stays one indexed lookup per kind inside the attempt's history query."""
import datetime as dt
import ipaddress
import re

from .. import errors
from ..models import RiskBlock
from .signals import network_of

KINDS = ('user', 'device', 'ip', 'network', 'payer')
_DEVICE = re.compile(r'^[A-Za-z0-9_-]{16,64}$')


def add(kind: str, value: str, reason: str, now: dt.datetime, by: str, hours: int | None = None) -> RiskBlock:
    """Raises InvalidInput (an unknown kind or a value that is not one of its kind)."""
    value = _normalized(kind, (value or '').strip())
    until = now + dt.timedelta(hours=hours) if hours else None
    entry = RiskBlock.get_or_none(RiskBlock.kind == kind, RiskBlock.value == value)
    if entry is not None:  # blocking again renews it
        RiskBlock.update(reason=reason[:200], until=until, created_at=now, created_by=by[:64]).where(
            RiskBlock.id == entry.id).execute()
        return RiskBlock.get_by_id(entry.id)
    return RiskBlock.create(kind=kind, value=value, reason=reason[:200], created_at=now, until=until,
                            created_by=by[:64])


def remove(entry_id: int) -> RiskBlock:
    entry = RiskBlock.get_or_none(RiskBlock.id == entry_id)
    if entry is None:
        raise errors.NotFound(f'blocklist entry {entry_id} not found')
    RiskBlock.delete().where(RiskBlock.id == entry_id).execute()
    return entry


def entries(now: dt.datetime) -> list[RiskBlock]:
    """Entries in force, newest first."""
    return list(RiskBlock.select().where(RiskBlock.until.is_null() | (RiskBlock.until > now))
                .order_by(RiskBlock.id.desc()))


def _normalized(kind: str, value: str) -> str:
    if kind not in KINDS:
        raise errors.InvalidInput(f'kind must be one of {", ".join(KINDS)}', field='kind')
    ok = {'user': lambda v: re.fullmatch(r'[0-9]{1,18}', v) is not None, 'device': lambda v: bool(_DEVICE.match(v)),
          'payer': lambda v: 0 < len(v) <= 64}
    if kind in ok:
        if not ok[kind](value):
            raise errors.InvalidInput(f'that is not a {kind}', field='value')
        return value
    try:
        address = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise errors.InvalidInput('an IP address (or, for a network, an address in it)', field='value') from None
    if kind == 'ip':
        if address.num_addresses != 1:
            raise errors.InvalidInput('one address; block a whole /24 (/64) as a network', field='value')
        return str(address.network_address)
    return network_of(str(address.network_address))  # the /24 (/64) the address is in, as the history matches it
