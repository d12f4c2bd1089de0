"""What wechatpy's WeChat Pay client sends its XML through: urllib3's pool, without requests on top.

wechatpy calls `session.request(method, url, data=..., headers=..., timeout=..., cert=...)`, then
`raise_for_status()`, `encoding` and `text` on the answer. requests spent a tenth of a join's CPU around
urllib3 doing what never applies to one XML POST to one host (cookies, auth, hooks, redirects, URL
re-encoding, a Protocol isinstance check per call). This keeps urllib3 (the pool, TLS, proxies, timeouts)
and requests' exceptions, which wechatpy and `gateways/wechat_pay.py` catch (both are OSErrors)."""
from urllib.parse import urlsplit

import requests
import urllib3


class PayHttp:
    """A requests.Session stand-in for one WeChat Pay base URL: `pool_size` kept-alive connections; the
    environment's proxy and CA bundle read once (requests' rules: HTTPS_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE);
    the merchant certificate, when set, presented on every connection (refunds need it)."""

    def __init__(self, base_url: str, pool_size: int, cert: tuple[str, str] | None = None):
        found = requests.Session().merge_environment_settings(base_url, {}, None, None, None)  # as requests reads them
        tls = dict(cert_reqs='CERT_REQUIRED', ca_certs=found['verify'] if isinstance(found['verify'], str)
                   else requests.certs.where())
        if cert:
            tls.update(cert_file=cert[0], key_file=cert[1])
        where = urlsplit(base_url)
        proxy = found['proxies'].get(where.scheme)
        self.manager = (urllib3.ProxyManager(proxy, maxsize=pool_size, block=False, **tls) if proxy
                        else urllib3.PoolManager(maxsize=pool_size, block=False, **tls))
        # one host: its pool, not a lookup per call (through a proxy the manager knows what each request needs)
        self.pool = None if proxy else self.manager.connection_from_url(base_url)
        self.origin = f'{where.scheme}://{where.netloc}'

    def request(self, method: str, url: str, data=None, headers=None, timeout=None, **_ignored):
        """`cert` is among what is ignored: the pool presents the merchant certificate it was made with."""
        if not url.startswith(self.origin + '/'):
            raise requests.ConnectionError(f'{url} is not on {self.origin}, the only host this client talks to')
        try:
            options = dict(body=data, headers=headers, timeout=timeout, retries=False, redirect=False)
            answer = (self.pool.urlopen(method.upper(), url[len(self.origin):], **options) if self.pool
                      else self.manager.urlopen(method.upper(), url, **options))
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of ConnectTimeoutError, as requests knows
            raise requests.ConnectionError(str(exc)) from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise requests.Timeout(str(exc)) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.ConnectionError(str(exc)) from exc
        return Answer(answer.status, answer.data, url)

    def post(self, url: str, **kwargs):
        return self.request('POST', url, **kwargs)

    def get(self, url: str, **kwargs):
        return self.request('GET', url, **kwargs)


class Answer:
    """The parts of requests.Response that wechatpy reads."""

    def __init__(self, status_code: int, content: bytes, url: str):
        self.status_code, self.content, self.url = status_code, content, url
        self.encoding = 'utf-8'
        self.request = None

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding or 'utf-8', errors='replace')

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise requests.HTTPError(f'{self.status_code} answered by {self.url}', response=self)
