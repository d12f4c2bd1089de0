"""What wechatpy's WeChat Pay client sends its XML through: the standard library's http.client, connections kept.

wechatpy calls `session.request(method, url, data=..., headers=..., timeout=..., cert=...)`, then
`raise_for_status()`, `encoding` and `text` on the answer. A join makes one such call (the prepay), and what sat
around http.client cost more than http.client itself: requests a tenth of a join's CPU (cookies, auth, hooks,
redirects, URL re-encoding), then urllib3's pool 320,000 of the 710,000 instructions of one call to a kept-alive
connection (callgrind, docs/BENCHMARKS.md). One host, one kind of
request and no retries need none of that: here a connection is taken from a short list of idle ones (dropped if
the server has closed it), used, and put back. TLS (the CA bundle requests would use, the merchant certificate
when set), the environment's proxy (requests' rules, read once) and timeouts are http.client's and ssl's. Every
failure is raised as the requests exception wechatpy and `gateways/wechat_pay.py` catch."""
import http.client
import socket
import ssl
import threading
from urllib.parse import urlsplit

import requests
from urllib3.util.wait import wait_for_read


class PayHttp:
    """A requests.Session stand-in for one WeChat Pay base URL: up to `pool_size` idle kept-alive connections; the
    environment's proxy and CA bundle read once (requests' rules: HTTPS_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE); the
    merchant certificate, when set, presented on every connection (refunds need it)."""

    def __init__(self, base_url: str, pool_size: int, cert: tuple[str, str] | None = None):
        found = requests.Session().merge_environment_settings(base_url, {}, None, None, None)  # as requests reads them
        where = urlsplit(base_url)
        self.origin = f'{where.scheme}://{where.netloc}'
        self.host, self.port = where.hostname, where.port or (443 if where.scheme == 'https' else 80)
        self.tls = None
        if where.scheme == 'https':
            self.tls = ssl.create_default_context(
                cafile=found['verify'] if isinstance(found['verify'], str) else requests.certs.where())
            if cert:
                self.tls.load_cert_chain(*cert)
        proxy = found['proxies'].get(where.scheme)
        self.proxy = urlsplit(proxy) if proxy else None
        self.pool_size = pool_size
        self.idle: list[http.client.HTTPConnection] = []
        self.lock = threading.Lock()  # gevent's workers patch it

    def request(self, method: str, url: str, data=None, headers=None, timeout=None, **_ignored):
        """`cert` is among what is ignored: connections present the merchant certificate they were made with."""
        if not url.startswith(self.origin + '/'):
            raise requests.ConnectionError(f'{url} is not on {self.origin}, the only host this client talks to')
        target = url if self.proxy is not None and self.tls is None else url[len(self.origin):]  # a proxy is asked for the URL
        conn = self._take(timeout)
        try:
            conn.request(method.upper(), target, body=data, headers=headers or {})
            answer = conn.getresponse()
            content = answer.read()
        except TimeoutError as exc:
            conn.close()
            raise requests.Timeout(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise requests.ConnectionError(str(exc)) from exc
        if answer.will_close:
            conn.close()
        else:
            self._give(conn)
        return Answer(answer.status, content, url)

    def post(self, url: str, **kwargs):
        return self.request('POST', url, **kwargs)

    def get(self, url: str, **kwargs):
        return self.request('GET', url, **kwargs)

    def _take(self, timeout) -> http.client.HTTPConnection:
        """An idle connection the server has not closed (one it closed reads as ready: end of file), else a new one."""
        while True:
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            if conn is None:
                return self._connection(timeout)
            if conn.sock is not None and not self._dropped(conn.sock):
                conn.sock.settimeout(timeout)
                conn.timeout = timeout
                return conn
            conn.close()

    def _dropped(self, sock) -> bool:
        """Has the server closed (or written to) this idle connection? Plain TCP is asked with one non-blocking
        peek, a single system call (urllib3's `wait_for_read` builds a poll object, and under gevent a hub
        watcher: 4 % of a join's CPU); a TLS socket takes no peek flags, so it is polled."""
        if self.tls is not None:
            return wait_for_read(sock, timeout=0.0)
        sock.settimeout(0.0)  # the caller sets the call's timeout next
        try:
            sock.recv(1, socket.MSG_PEEK)  # returns: end of file, or bytes nobody asked for
            return True
        except BlockingIOError:
            return False  # nothing to read: still open
        except OSError:
            return True

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self.lock:
            if len(self.idle) < self.pool_size:
                self.idle.append(conn)
                return
        conn.close()

    def _connection(self, timeout) -> http.client.HTTPConnection:
        if self.proxy is None:
            return (http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.tls) if self.tls
                    else http.client.HTTPConnection(self.host, self.port, timeout=timeout))
        at = (self.proxy.hostname, self.proxy.port or 80)
        if self.tls is None:
            return http.client.HTTPConnection(*at, timeout=timeout)
        conn = http.client.HTTPSConnection(*at, timeout=timeout, context=self.tls)
        conn.set_tunnel(self.host, self.port)  # CONNECT through the proxy, TLS to WeChat inside it
        return conn


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
