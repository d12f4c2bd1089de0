"""Who is on the other end of a request, as far as we can tell: the address (werkzeug's ProxyFix trusts
`PROXY_HOPS` proxies in front of us, so behind a load balancer it is the client's, not the balancer's), the
device id the client keeps (header `X-Pinke-Device`: the mini-program's storage, the H5 page's localStorage),
and the user agent. Risk rules and rate limits key on these."""
import re

from flask import request

from groupbuy.risk.signals import Signals

DEVICE_HEADER = 'X-Pinke-Device'
_DEVICE = re.compile(r'^[A-Za-z0-9_-]{16,64}$')


def client_ip() -> str:
    return (request.remote_addr or '127.0.0.1')[:45]


def device_id() -> str:
    """The client's device id, or '' when it sent none or something that is not one."""
    value = request.headers.get(DEVICE_HEADER, '')
    return value if _DEVICE.match(value) else ''


def signals() -> Signals:
    return Signals(ip=client_ip(), device=device_id(), user_agent=request.user_agent.string[:256])
