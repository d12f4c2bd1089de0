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

    def setup(self):
        super().setup()
        self.server.connections += 1

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    httpd.daemon_threads = True
    httpd.connections, httpd.bodies, httpd.status = 0, [], 200
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
