"""`python -m wechat_sandbox --host 127.0.0.1 --port 5009`: run the sandbox for the demo.

Served by gunicorn (one process: the sandbox keeps its state in memory; threads, because the app it serves
calls back into it — token, orderquery — while handling a notification the sandbox is delivering) with
HTTP/1.1 keep-alive, as WeChat's servers keep a merchant's connection: werkzeug's development server closes
every connection, which made each join's prepay open a new TCP connection and charged the web process
for it in the benchmarks. The request log shows paths only: query strings carry app secrets, access
tokens and login codes.
"""
import argparse

from gunicorn.app.base import BaseApplication


class SandboxServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_sandbox_app
        return create_sandbox_app()  # in the worker: its notification threads must not be lost to the fork


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m wechat_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5009)
    parser.add_argument("--threads", type=int, default=64, help="requests served at once")
    args = parser.parse_args(argv)
    SandboxServer({
        "bind": f"{args.host}:{args.port}", "workers": 1, "worker_class": "gthread", "threads": args.threads,
        "keepalive": 75, "graceful_timeout": 2, "timeout": 120, "accesslog": "-",
        "access_log_format": '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s',
        "control_socket_disable": True,  # one path per user by default: several servers here would share it
    }).run()


if __name__ == "__main__":
    main()
