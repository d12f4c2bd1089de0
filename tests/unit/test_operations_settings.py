"""The operations settings (README "Operations: metrics and logs"): JSON logs in production, readable ones in
the sandbox; a LOG_FORMAT or METRICS_NETWORKS that cannot be read stops every process at start."""
import ipaddress

import pytest

from config.settings import ConfigError, Settings
from tests.unit.test_production_settings import cert_files, complete, env  # noqa: F401  (fixtures)


def test_logs_are_json_with_real_wechat_and_text_in_the_sandbox(env, cert_files):  # noqa: F811
    assert Settings.from_env().log_format == 'text'  # `make run`'s console
    env(**complete(cert_files))
    assert Settings.from_env().log_format == 'json'
    env(LOG_FORMAT='TEXT')
    assert Settings.from_env().log_format == 'text'


def test_the_metrics_directory_is_under_the_data_dir_unless_named(env, tmp_path):  # noqa: F811
    env(PROMETHEUS_MULTIPROC_DIR='')
    assert Settings.from_env().prometheus_multiproc_dir == f'{tmp_path.resolve()}/metrics'
    env(PROMETHEUS_MULTIPROC_DIR='/run/pinke-metrics')
    assert Settings.from_env().prometheus_multiproc_dir == '/run/pinke-metrics'


def test_metrics_are_open_to_loopback_and_private_networks_by_default(env):  # noqa: F811
    allowed = Settings.from_env().metrics_allowed
    inside = [ipaddress.ip_address(a) for a in ('127.0.0.1', '10.2.3.4', '172.20.0.9', '192.168.1.1', '::1')]
    assert all(any(a in n for n in allowed) for a in inside)
    assert not any(ipaddress.ip_address('203.0.113.7') in n for n in allowed)


@pytest.mark.parametrize('name, value', [('LOG_FORMAT', 'yaml'), ('METRICS_NETWORKS', '10.0.0.0/8,intranet'),
                                         ('METRICS_NETWORKS', '10.0.0.1/8')])
def test_an_unreadable_value_is_refused_at_start_naming_it(env, name, value):  # noqa: F811
    env(**{name: value})
    with pytest.raises(ConfigError, match=name):
        Settings.from_env()
