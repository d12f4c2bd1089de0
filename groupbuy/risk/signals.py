"""What we know about who is acting: kept with every decision, so it can be explained and replayed."""
import functools
import ipaddress
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Signals:
    ip: str = ''
    device: str = ''       # the random id the client keeps (mini-program storage, H5 localStorage); '' unknown
    user_agent: str = ''

    @property
    def network(self) -> str:
        """The address's /24 (IPv4) or /64 (IPv6): one office, one home router, one mobile carrier pool."""
        return network_of(self.ip)

    @property
    def public(self) -> bool:
        """A public address: a private or loopback one means a proxy we were not told about (PROXY_HOPS)."""
        return is_public(self.ip)

    def as_dict(self) -> dict:
        return {**asdict(self), 'network': self.network}


@functools.lru_cache(maxsize=4096)  # read twice per join; ipaddress parsing is not cheap
def is_public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


@functools.lru_cache(maxsize=4096)  # read several times per join by the rules; ipaddress parsing is not cheap
def network_of(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ''
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f'{address}/{prefix}', strict=False))
