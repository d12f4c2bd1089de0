"""Every setting, read from the environment once.

WeChat is all or nothing: with no WeChat credential set, every WeChat call goes to the local
sandbox with its published (not secret) credentials. Once any real credential is set, every one
the enabled features need must be set too — or `from_env` raises ConfigError naming what is
missing, and no process starts (a half-configured system would answer real WeChat with the
sandbox's public keys, or send real money calls to a sandbox).
"""
import json
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

import templates_msg
from groupbuy import job_catalogue

WECHAT_API = 'https://api.weixin.qq.com/'
WECHAT_PAY_API = 'https://api.mch.weixin.qq.com/'
WECHAT_OPEN = 'https://open.weixin.qq.com/connect/'  # H5 OAuth pages
WECHAT_MP = 'https://mp.weixin.qq.com/'  # official-account QR pictures (showqrcode)
WECHAT_AVATAR_HOSTS = 'thirdwx.qlogo.cn,wx.qlogo.cn'
REDIS_CLUSTER = 'redis+cluster://'  # REDIS_URL's scheme for a Redis Cluster (limits' form): config/wiring.py

# The credentials of each WeChat feature: all of a feature's, or none (then it is off, or the sandbox).
MINIAPP_AND_PAY = ('wechat_app_id', 'wechat_app_secret', 'wechat_mch_id', 'wechat_api_key',
                   'wechat_mch_cert', 'wechat_mch_key')
OFFICIAL_ACCOUNT = ('wechat_oa_app_id', 'wechat_oa_app_secret', 'wechat_oa_token', 'wechat_oa_aes_key')
CREDENTIALS = MINIAPP_AND_PAY + OFFICIAL_ACCOUNT


class ConfigError(Exception):
    """The environment describes a system that must not start; the message says what to set."""


def _retry_defaults() -> dict[str, str]:
    """Retry.env -> default seconds of every job in the catalogue that retries. Adapter jobs register later
    (when jobs/ is imported): a Retry of theirs (none today) would run on its default."""
    return {job.retry.env: job.retry.default_s for job in job_catalogue.all_jobs() if job.retry}


@dataclass
class Settings:
    data_dir: str = './instance'
    database_url: str = ''
    redis_url: str = ''  # redis://… (one server) or redis+cluster://host:port,host:port (a Redis Cluster)
    rq_redis_url: str = ''  # RQ's queues; '' = REDIS_URL. RQ needs one plain server, never a cluster
    secret_key: str = ''
    admin_token: str = ''
    key_prefix: str = 'pinke:'
    redis_max_connections: int = 64  # per process; requests beyond it wait for a free connection
    database_pool_size: int = 20  # database connections per process (pooled; SQLite too); beyond it a request waits
    web_in_flight: int = 0  # requests a web process works on at once, the rest wait in line (0: DATABASE_POOL_SIZE)
    web_queue_wait_s: float = 30.0  # how long a request waits in that line before it is answered 503
    pay_http_pool_size: int = 64  # kept-alive connections to WeChat Pay per process (about the concurrent joins)
    port: int = 5000
    sandbox_port: int = 5009
    public_base_url: str = ''
    pay_window_s: int = 300
    refund_max_attempts: int = 5
    scheduler_poll_s: float = 0.1
    sweep_interval_s: float = 30.0
    sweep_stale_s: int = 60  # a queued job this old without effect is enqueued again
    refund_check_after_s: int = 600  # a refund submitted this long ago with no notification is asked about (refundquery)
    quiet_hours: str = '22:00-08:00'  # no pushes then (Beijing time unless QUIET_TZ); '' turns it off
    quiet_tz: str = 'Asia/Shanghai'
    broadcast_rate_per_s: float = 20.0
    notify_max_attempts: int = 5
    wechat_app_id: str = ''
    wechat_app_secret: str = ''
    wechat_mch_id: str = ''
    wechat_api_key: str = ''
    wechat_mch_cert: str = ''  # merchant certificate and key files: refunds need them
    wechat_mch_key: str = ''
    wechat_api_base_url: str = ''
    wechat_pay_base_url: str = ''
    wechat_oa_app_id: str = ''  # the official account (服务号): bot, H5 OAuth, JS-SDK
    wechat_oa_app_secret: str = ''
    wechat_oa_token: str = ''  # the bot callback's token
    wechat_oa_aes_key: str = ''  # EncodingAESKey: encrypted (safe) mode
    # the official account's appid is bound to the merchant (商户平台 → AppID账号管理) and the H5 page's URL prefix is
    # a JSAPI payment directory: the H5 group page in WeChat's browser joins and pays right there. Off: it offers the
    # mini-program instead (docs/WECHAT_SETUP.md)
    wechat_oa_pay: bool = True
    wechat_open_base_url: str = ''
    wechat_mp_base_url: str = ''
    wechat_app_username: str = ''  # the mini-program's original id (gh_...): the H5 page's open button
    miniapp_group_page: str = 'pages/group/index'
    poster_image_hosts: str = ''  # hosts a poster may fetch covers and avatars from
    poster_font: str = ''  # a CJK font file for posters; '' (or no font there): the shipped Noto Sans CJK
    live_heartbeat_s: float = 15.0  # the live event stream's heartbeat: keeps proxies from closing it
    proxy_hops: int = 0  # proxies in front of us that append to X-Forwarded-For; 0: trust none (wsgi.py)
    # Operations (README "Operations: metrics and logs"): 'json' (one object a line) or 'text'; '' is json with
    # real WeChat credentials (production), text in the sandbox (`make run`'s console)
    log_format: str = ''
    # prometheus_client's multiprocess directory (its own variable): every process of this host writes its
    # metrics there and GET /metrics sums them; '' is $DATA_DIR/metrics
    prometheus_multiproc_dir: str = ''
    # who may read GET /metrics without the ADMIN_TOKEN bearer: these networks, comma-separated ('' = nobody)
    metrics_networks: str = '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7'
    # HTTP rate limits (config/rate_limits.py: which endpoint, per whom): limits' strings, '; ' between
    # several; '' turns one off. Per device and user, a person's pace; per address (IP), many people behind
    # one carrier or campus NAT.
    rate_limits_enabled: bool = True  # off only for load tests, where every client is one address
    rate_limit_login: str = '10 per minute; 30 per hour'  # wx.login sign-ins per device
    rate_limit_login_ip: str = '60 per minute; 600 per hour'
    rate_limit_open: str = '5 per minute; 20 per hour'  # groups opened per user and per device
    rate_limit_open_ip: str = '60 per minute; 600 per hour'
    rate_limit_join: str = '10 per minute; 40 per hour'  # joins per user and per device
    rate_limit_join_ip: str = '60 per minute; 600 per hour'
    rate_limit_share: str = '60 per minute'  # per device, each of: share card, poster, card picture, clicks
    rate_limit_share_ip: str = '300 per minute'  # per address, each of those and the H5 pages
    rate_limit_bot_refused_ip: str = '30 per minute'  # bot pushes refused as not WeChat's, per address
    rate_limit_console_login: str = '10 per 15 minutes'  # failed console sign-ins per name at one address
    rate_limit_console_login_name: str = '50 per 15 minutes'  # failed console sign-ins per name, any address
    rate_limit_console_login_all: str = '30 per 15 minutes'  # every console sign-in attempt, per name and address
    rate_limit_room_question: str = '3 per minute; 30 per hour'  # live-room questions per user and per device
    rate_limit_room_question_ip: str = '60 per minute'  # live-room questions per address
    # Warm-up live rooms (groupbuy/rooms/words.py): the sensitive-word filter on questions — 'mask' or 'reject'
    # the listed words (comma-separated), or 'package.module:function' for another filter
    room_word_filter: str = 'mask'
    room_sensitive_words: str = '代写,刷单,赌博,博彩,色情,加微信,加我微信,私聊我,兼职日结'
    # kind -> (subscribe id, official-account id), from WECHAT_TPL_<KIND> / WECHAT_OA_TPL_<KIND>; '' is none
    message_templates: dict = field(default_factory=templates_msg.default_template_ids)
    # each job's Retry.env (REFUND_RETRY_S, NOTIFY_RETRY_S; groupbuy/job_catalogue.py) -> '5,30,...' seconds
    retry_intervals: dict = field(default_factory=_retry_defaults)
    testing: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, overrides: dict | None = None) -> 'Settings':
        """Fields from upper-case environment variables (DATA_DIR, PAY_WINDOW_S, ...), the two dicts from
        their per-kind and per-job names, then overrides."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f.name.upper())
            if raw is not None and f.type not in (dict, 'dict'):  # dicts: read below, per name
                values[f.name] = _cast(f.type, raw)
        values['message_templates'] = {
            kind: (os.environ.get(f'WECHAT_TPL_{kind.upper()}', subscribe),
                   os.environ.get(f'WECHAT_OA_TPL_{kind.upper()}', oa))
            for kind, (subscribe, oa) in templates_msg.default_template_ids().items()}
        values['retry_intervals'] = {env: os.environ.get(env, default) for env, default in _retry_defaults().items()}
        values.update({k.lower(): v for k, v in (overrides or {}).items()
                       if k.lower() in {f.name for f in fields(cls)}})
        s = cls(**values)
        s._fill_defaults(given=set(values))
        return s

    @property
    def quiet_window(self):
        """QUIET_HOURS 'HH:MM-HH:MM' as two datetime.time, or None when empty."""
        import datetime as dt
        if not self.quiet_hours.strip():
            return None
        start, _, end = self.quiet_hours.partition('-')
        return tuple(dt.time.fromisoformat(x.strip()) for x in (start, end))

    @property
    def metrics_allowed(self) -> list:
        """METRICS_NETWORKS as ipaddress networks (ValueError on one that is not a network)."""
        import ipaddress
        return [ipaddress.ip_network(n.strip()) for n in self.metrics_networks.split(',') if n.strip()]

    @property
    def uses_sandbox(self) -> bool:
        return self.wechat_api_base_url.startswith('http://127.0.0.1')

    def _fill_defaults(self, given: set) -> None:
        Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        self.data_dir = str(Path(self.data_dir).resolve())
        if not self.database_url:
            self.database_url = f'sqlite:///{self.data_dir}/pinke.db'
        live = _real_credentials(self)
        if live:
            _require_production(self)
        else:
            for name, value in _sandbox_credentials().items():
                if name not in given:  # WECHAT_OA_AES_KEY= (empty) still means "plaintext mode"
                    setattr(self, name, value)
        if not (self.secret_key and self.admin_token):
            stored = _stored_secrets(Path(self.data_dir) / 'secrets.json')
            self.secret_key = self.secret_key or stored['secret_key']
            self.admin_token = self.admin_token or stored['admin_token']
        sandbox = f'http://127.0.0.1:{self.sandbox_port}/'
        self.wechat_api_base_url = self.wechat_api_base_url or (WECHAT_API if live else sandbox)
        self.wechat_pay_base_url = self.wechat_pay_base_url or (WECHAT_PAY_API if live else sandbox)
        self.wechat_open_base_url = self.wechat_open_base_url or (WECHAT_OPEN if live else sandbox + 'connect/')
        self.wechat_mp_base_url = self.wechat_mp_base_url or (WECHAT_MP if live else sandbox)
        self.poster_image_hosts = self.poster_image_hosts or (
            WECHAT_AVATAR_HOSTS if live else f'127.0.0.1:{self.sandbox_port}')
        self.public_base_url = (self.public_base_url or f'http://127.0.0.1:{self.port}').rstrip('/')
        self.log_format = (self.log_format or ('json' if live else 'text')).lower()
        self.prometheus_multiproc_dir = self.prometheus_multiproc_dir or f'{self.data_dir}/metrics'
        _check_rates(self)
        _check_operations(self)
        _check_redis(self)


def _sandbox_credentials() -> dict:
    """The sandbox's published credentials, used only when no real one is set."""
    from wechat_sandbox import credentials as c
    return {'wechat_app_id': c.DEFAULT_APP_ID, 'wechat_app_secret': c.DEFAULT_APP_SECRET,
            'wechat_mch_id': c.DEFAULT_MCH_ID, 'wechat_api_key': c.DEFAULT_API_KEY,
            'wechat_oa_app_id': c.DEFAULT_OA_APP_ID, 'wechat_oa_app_secret': c.DEFAULT_OA_APP_SECRET,
            'wechat_oa_token': c.DEFAULT_OA_TOKEN, 'wechat_oa_aes_key': c.DEFAULT_OA_AES_KEY}


def _real_credentials(s: Settings) -> list[str]:
    """The credentials set to something other than the sandbox's public values."""
    sandbox = _sandbox_credentials()
    return [n for n in CREDENTIALS if getattr(s, n) and getattr(s, n) != sandbox.get(n)]


def _require_production(s: Settings) -> None:
    """Real WeChat: the mini-program and its merchant entirely (refunds need the certificate files),
    the official account entirely or not at all, and the secrets every process must share."""
    sandbox = _sandbox_credentials()
    missing = [n for n in MINIAPP_AND_PAY if not getattr(s, n) or getattr(s, n) == sandbox.get(n)]
    if any(getattr(s, n) for n in OFFICIAL_ACCOUNT):
        missing += [n for n in OFFICIAL_ACCOUNT if not getattr(s, n) or getattr(s, n) == sandbox.get(n)]
    missing += [n for n in ('secret_key', 'admin_token', 'public_base_url') if not getattr(s, n)]
    problems = [f'{n.upper()} is not set' for n in missing]
    for name in ('wechat_mch_cert', 'wechat_mch_key'):
        path = getattr(s, name)
        if path and not os.access(path, os.R_OK):
            problems.append(f'{name.upper()}={path} is not a readable file (refunds need it)')
    if s.public_base_url and not s.public_base_url.startswith('https://'):
        problems.append(f'PUBLIC_BASE_URL={s.public_base_url} must be https:// (WeChat calls it)')
    for name, least in (('secret_key', 32), ('admin_token', 32)):  # anyone who guesses either is an operator
        if getattr(s, name) and len(getattr(s, name)) < least:
            problems.append(f'{name.upper()} needs at least {least} characters (e.g. `openssl rand -hex 24`)')
    if problems:
        raise ConfigError('real WeChat credentials are set, but the configuration is incomplete: '
                          + '; '.join(problems) + '. Set them all, or none to use the sandbox.')


def _check_rates(s: Settings) -> None:
    """A rate limit that cannot be read stops every process at start, not the first request it guards."""
    from limits import parse_many
    for f in fields(s):
        value = getattr(s, f.name)
        if f.name.startswith('rate_limit_') and value.strip():
            try:
                parse_many(value)
            except ValueError:
                raise ConfigError(f"{f.name.upper()}={value!r} is not a rate: write e.g. '10 per minute; 30 per hour', "
                                  "or leave it empty for no limit") from None
    if s.proxy_hops < 0:
        raise ConfigError(f'PROXY_HOPS={s.proxy_hops} must be 0 (no proxy) or the number of proxies in front')


def _check_redis(s: Settings) -> None:
    """RQ cannot run on a Redis Cluster: with a cluster REDIS_URL its queues need a plain RQ_REDIS_URL."""
    if s.rq_redis_url.startswith(REDIS_CLUSTER) or (s.redis_url.startswith(REDIS_CLUSTER) and not s.rq_redis_url):
        raise ConfigError('RQ does not run on a Redis Cluster: set RQ_REDIS_URL to a plain redis:// server '
                          '(REDIS_URL may stay redis+cluster://)')


def _check_operations(s: Settings) -> None:
    if s.log_format not in ('json', 'text'):
        raise ConfigError(f"LOG_FORMAT={s.log_format!r} must be 'json' or 'text' (or empty: json with real WeChat)")
    try:
        s.metrics_allowed
    except ValueError as exc:
        raise ConfigError(f'METRICS_NETWORKS={s.metrics_networks!r}: {exc} (write networks like 10.0.0.0/8, '
                          "comma-separated, or leave it empty: the ADMIN_TOKEN only)") from None


def export_metrics_dir(s: Settings) -> str:
    """prometheus_client reads PROMETHEUS_MULTIPROC_DIR itself, when a process makes its first metric, and
    its children inherit it: the first app of a process exports it, later ones (tests) share that one, and
    `s.prometheus_multiproc_dir` says which it is."""
    s.prometheus_multiproc_dir = os.environ.setdefault('PROMETHEUS_MULTIPROC_DIR', s.prometheus_multiproc_dir)
    Path(s.prometheus_multiproc_dir).mkdir(parents=True, exist_ok=True)
    return s.prometheus_multiproc_dir


def _cast(kind, raw: str):
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == 'int':
        return int(raw)
    if kind == 'float':
        return float(raw)
    if kind == 'bool':
        return raw.lower() in ('1', 'true', 'yes', 'on')
    return raw


def _stored_secrets(path: Path) -> dict:
    """Dev secrets made once per DATA_DIR so every process (web, worker, CLI) agrees on them."""
    if not path.exists():
        data = {'secret_key': secrets.token_urlsafe(32), 'admin_token': 'adm_' + secrets.token_urlsafe(18)}
        tmp = path.with_suffix('.tmp')
        tmp.write_text(json.dumps(data))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic create-if-absent: a parallel process may have won
        except FileExistsError:
            pass
        tmp.unlink(missing_ok=True)
    return json.loads(path.read_text())
