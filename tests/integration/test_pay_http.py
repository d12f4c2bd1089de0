"""gateways/pay_http.py: what wechatpy's WeChat Pay client sends through. Against a real HTTP/1.1 server on
loopback: connections are kept (one TCP connection for many calls), and every failure arrives as the
requests exception wechatpy and the gateway already handle — an HTTP error as WeChatPayException, a refused
connection or a timeout as a GatewayError with code NETWORK — never as an urllib3 exception nobody catches."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from gateways.pay_http import PayHttp
from gateways.wechat_pay import WeChatPayGateway, make_pay
from groupbuy.ports import GatewayError
from tests.support.system import free_port

OK = (b'<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>'
      b'<prepay_id>wx-test-prepay</prepay_id></xml>')


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as WeChat's servers do

    def do_POST(self):
        self.rfile.read(int(self.headers['Content-Length']))
        self.server.bodies.append(self.path)
        status = self.server.status
        self.send_response(status)
        self.send_header('Content-Type', 'text/xml')
        self.send_header('Content-Length', str(len(OK)))
        self.end_headers()
        self.wfile.write(OK)
        if self.server.hang_up:  # closes the kept-alive connection without saying so (an idle timeout, a restart)
            self.close_connection = True

    def setup(self):
        super().setup()
        self.server.connections += 1

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.hung_up.set()  # the connection is closed now, not just about to be (the handler's finish is earlier)


@pytest.fixture
def server():
    httpd = _Server(('127.0.0.1', 0), _Handler)
    httpd.daemon_threads = True
    httpd.connections, httpd.bodies, httpd.status = 0, [], 200
    httpd.hang_up, httpd.hung_up = False, threading.Event()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def gateway_on(base_url: str) -> WeChatPayGateway:
    class Settings:
        wechat_app_id, wechat_api_key, wechat_mch_id = 'wx0123456789abcdef', 'k' * 32, '1900000109'
        wechat_mch_cert = wechat_mch_key = ''
        wechat_pay_base_url, pay_http_pool_size = base_url, 4
    return WeChatPayGateway(make_pay(Settings), 'https://pinke.example.com/pay/notify',
                            'https://pinke.example.com/pay/refund-notify')


def prepay(gateway):
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return gateway.create_prepay(out_trade_no='PK20261127000001', amount_fen=990, description='课程',
                                 openid='o-test', expires_at=now + dt.timedelta(minutes=5), client_ip='127.0.0.1')


def test_calls_share_one_kept_alive_connection(server):
    gateway = gateway_on(f'http://127.0.0.1:{server.server_port}/')
    for _ in range(5):
        assert prepay(gateway).prepay_id == 'wx-test-prepay'
    assert server.bodies == ['/pay/unifiedorder'] * 5
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_not_used_again(server):
    server.hang_up = True
    gateway = gateway_on(f'http://127.0.0.1:{server.server_port}/')
    assert prepay(gateway).prepay_id == 'wx-test-prepay'
    assert server.hung_up.wait(10)  # the server has closed the connection the client keeps
    assert prepay(gateway).prepay_id == 'wx-test-prepay'  # on a new connection, not an error
    assert server.connections == 2


def test_no_more_idle_connections_are_kept_than_the_pool_holds(server):
    base = f'http://127.0.0.1:{server.server_port}/'
    http = PayHttp(base, 2)
    conns = [http._take(5) for _ in range(3)]  # three calls at once
    for conn in conns:
        conn.request('POST', '/pay/unifiedorder', body=b'<xml/>')
        conn.getresponse().read()
        http._give(conn)
    assert len(http.idle) == 2 and conns[2].sock is None  # the third went back closed
    assert http.request('POST', base + 'pay/unifiedorder', data=b'<xml/>').status_code == 200
    assert server.connections == 3  # and the next call reused a kept one


def test_an_http_error_is_wechatpays_error_and_the_gateway_s(server):
    server.status = 502
    with pytest.raises(requests.HTTPError):
        PayHttp(f'http://127.0.0.1:{server.server_port}/', 2).request('POST', f'http://127.0.0.1:{server.server_port}/x',
                                                                      data=b'<xml/>').raise_for_status()
    with pytest.raises(GatewayError):
        prepay(gateway_on(f'http://127.0.0.1:{server.server_port}/'))


def test_a_refused_connection_is_a_network_error():
    base = f'http://127.0.0.1:{free_port()}/'  # nothing listens there
    with pytest.raises(requests.ConnectionError):
        PayHttp(base, 2).request('POST', base + 'pay/unifiedorder', data=b'<xml/>', timeout=2)
    with pytest.raises(GatewayError) as refused:
        prepay(gateway_on(base))
    assert refused.value.code == 'NETWORK'


def test_a_server_that_never_answers_is_a_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(('127.0.0.1', 0))
        silent.listen(8)
        base = f'http://127.0.0.1:{silent.getsockname()[1]}/'
        with pytest.raises(requests.Timeout):
            PayHttp(base, 2).request('POST', base + 'pay/unifiedorder', data=b'<xml/>', timeout=0.3)


def test_the_environment_s_proxy_is_used_as_requests_would(server, monkeypatch):
    for name in ('NO_PROXY', 'no_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('HTTP_PROXY', f'http://127.0.0.1:{server.server_port}')
    http = PayHttp('http://api.mch.example.com/', 2)
    assert http.request('POST', 'http://api.mch.example.com/pay/unifiedorder', data=b'<xml/>').status_code == 200
    assert server.bodies == ['http://api.mch.example.com/pay/unifiedorder']  # the proxy was asked for the URL
    with pytest.raises(requests.ConnectionError):  # one host only: a URL elsewhere is never sent anywhere
        http.request('POST', 'http://elsewhere.example.com/pay/unifiedorder', data=b'<xml/>')


@pytest.fixture
def tls_server(server, tmp_path):
    """The same server behind TLS, with a certificate for `localhost` that only our bundle trusts."""
    import ssl
    import subprocess
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
                    '-addext', 'subjectAltName=DNS:localhost', '-keyout', str(key), '-out', str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server, str(cert)


def test_https_is_verified_against_the_bundle_requests_would_use(tls_server, monkeypatch):
    server, bundle = tls_server
    base = f'https://localhost:{server.server_port}/'
    for name in ('HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'CURL_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(requests.ConnectionError):  # a certificate nobody vouches for: refused
        PayHttp(base, 2).request('POST', base + 'pay/unifiedorder', data=b'<xml/>', timeout=5)
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', bundle)
    http = PayHttp(base, 2)
    for _ in range(3):
        assert http.request('POST', base + 'pay/unifiedorder', data=b'<xml/>', timeout=5).content == OK
    assert server.bodies == ['/pay/unifiedorder'] * 3 and server.connections == 1  # one connection, kept
