"""The Flask app factory: `flask --app wsgi ...` and `gunicorn 'wsgi:create_app()'` both use it."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import ConfigError, Settings, export_metrics_dir
from config.wiring import bootstrap

MAX_BODY = 256 * 1024  # the largest request body taken (413 beyond): JSON forms, WeChat's XML callbacks


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment (and `config` overrides). Nothing connects at import."""
    try:
        settings = Settings.from_env(config)
    except ConfigError as exc:  # every process (web, workers, scheduler, CLI) refuses to start, saying why
        raise SystemExit(f'pinke: {exc}') from None
    app = Flask(__name__)
    from miniapp_api.admission import Admission  # the line at the door: no more requests inside than the pool holds
    app.wsgi_app = Admission(app.wsgi_app, settings.web_in_flight or settings.database_pool_size,
                             settings.web_queue_wait_s, MAX_BODY)
    if settings.proxy_hops:  # the client's address is what the nearest PROXY_HOPS proxies put in X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=0, x_host=0, x_port=0, x_prefix=0)
    app.config.update(SECRET_KEY=settings.secret_key, ADMIN_TOKEN=settings.admin_token,
                      MAX_CONTENT_LENGTH=MAX_BODY, TESTING=settings.testing)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    from config import logs
    logs.setup(settings)
    export_metrics_dir(settings)  # before any metric is made (miniapp_api/metrics.py)
    runtime = bootstrap(settings)
    app.extensions['pinke'] = runtime
    from jobs import runtime as job_runtime
    job_runtime.install(runtime)

    from groupbuy.models import db
    from miniapp_api import metrics, request_id
    request_id.init_app(app)  # first: whatever the other hooks log carries the request's id

    @app.before_request
    def open_db():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def close_db(exc):
        if not db.is_closed():
            db.close()

    from config import commands, rate_limits
    register_blueprints(app)
    metrics.init_app(app)
    rate_limits.apply(app)
    commands.init_app(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Every route the system serves: the API and H5 pages (miniapp_api), the official account's bot and the
    operator console (console), and /metrics for the operators' Prometheus."""
    import console
    import miniapp_api
    from bot import callback
    from miniapp_api import metrics
    miniapp_api.init_app(app)
    app.register_blueprint(callback.bp)
    console.init_app(app)
    app.register_blueprint(metrics.bp)
