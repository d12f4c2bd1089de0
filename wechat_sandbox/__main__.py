"""`python -m wechat_sandbox --host 127.0.0.1 --port 5009`: run the sandbox for the demo.

Threaded, because the app it serves may call back into it (token, orderquery) while
handling a notification the sandbox is delivering.
"""
import argparse

from werkzeug.serving import WSGIRequestHandler, run_simple

from . import create_sandbox_app


class PathOnlyLog(WSGIRequestHandler):
    """The request log without query strings: they carry app secrets, access tokens and login codes."""

    def log_request(self, code="-", size="-"):
        path = getattr(self, "path", "").split("?", 1)[0].translate(self._control_char_table)
        self.log("info", '"%s %s" %s %s', getattr(self, "command", "-"), path, code, size)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m wechat_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5009)
    args = parser.parse_args(argv)
    app = create_sandbox_app()
    # run_simple, not app.run: app.run does nothing when started from under the `flask` CLI
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False, request_handler=PathOnlyLog)


if __name__ == "__main__":
    main()
