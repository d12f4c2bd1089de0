"""Production configuration is all or nothing (issue 8 §6): with any real WeChat credential, every
one the enabled features need must be set, or no process starts; nothing defaults to the sandbox."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigError, Settings, WECHAT_API
from wechat_sandbox import credentials as sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith('WECHAT_') or name in ('SECRET_KEY', 'ADMIN_TOKEN', 'PUBLIC_BASE_URL'):
            monkeypatch.delenv(name)
    monkeypatch.setenv('DATA_DIR', str(tmp_path))

    def put(**values):
        for k, v in values.items():
            monkeypatch.setenv(k, v)
    return put


@pytest.fixture
def cert_files(tmp_path):
    cert, key = tmp_path / 'apiclient_cert.pem', tmp_path / 'apiclient_key.pem'
    cert.write_text('cert'), key.write_text('key')
    return {'WECHAT_MCH_CERT': str(cert), 'WECHAT_MCH_KEY': str(key)}


def complete(cert_files, **more):
    return {'WECHAT_APP_ID': 'wxrealapp', 'WECHAT_APP_SECRET': 's' * 32, 'WECHAT_MCH_ID': '1230000109',
            'WECHAT_API_KEY': 'k' * 32, 'SECRET_KEY': 'x' * 32, 'ADMIN_TOKEN': 'adm_' + 'r' * 44,
            'PUBLIC_BASE_URL': 'https://pinke.example.com', **cert_files, **more}


def test_with_no_credential_everything_is_the_sandbox(env):
    s = Settings.from_env()
    assert (s.wechat_app_id, s.wechat_api_key, s.wechat_oa_aes_key) == (
        sandbox.DEFAULT_APP_ID, sandbox.DEFAULT_API_KEY, sandbox.DEFAULT_OA_AES_KEY)
    assert s.uses_sandbox and s.wechat_pay_base_url.startswith('http://127.0.0.1')


def test_an_app_id_alone_is_refused_and_names_what_is_missing(env):
    env(WECHAT_APP_ID='wxrealapp')
    with pytest.raises(ConfigError) as refused:
        Settings.from_env()
    for name in ('WECHAT_APP_SECRET', 'WECHAT_MCH_ID', 'WECHAT_API_KEY', 'WECHAT_MCH_CERT', 'WECHAT_MCH_KEY',
                 'SECRET_KEY', 'ADMIN_TOKEN', 'PUBLIC_BASE_URL'):
        assert name in str(refused.value)


def test_a_real_pay_key_without_an_app_id_never_points_at_the_sandbox(env, cert_files):
    values = complete(cert_files)
    del values['WECHAT_APP_ID']
    env(**values)
    with pytest.raises(ConfigError, match='WECHAT_APP_ID is not set'):
        Settings.from_env()


def test_the_sandboxs_published_values_do_not_count_as_credentials(env, cert_files):
    env(**complete(cert_files, WECHAT_API_KEY=sandbox.DEFAULT_API_KEY))
    with pytest.raises(ConfigError, match='WECHAT_API_KEY is not set'):
        Settings.from_env()


def test_refunds_need_the_certificate_files_to_exist(env, cert_files, tmp_path):
    env(**complete(cert_files, WECHAT_MCH_CERT=str(tmp_path / 'missing.pem')))
    with pytest.raises(ConfigError, match='WECHAT_MCH_CERT=.*missing.pem is not a readable file'):
        Settings.from_env()


def test_the_official_account_is_all_or_nothing(env, cert_files):
    env(**complete(cert_files, WECHAT_OA_APP_ID='wxrealoa'))
    with pytest.raises(ConfigError) as refused:
        Settings.from_env()
    assert {'WECHAT_OA_APP_SECRET', 'WECHAT_OA_TOKEN', 'WECHAT_OA_AES_KEY'} <= set(
        w for w in str(refused.value).replace(';', ' ').split() if w.startswith('WECHAT_OA'))


def test_a_complete_production_configuration_talks_to_wechat_and_keeps_no_sandbox_value(env, cert_files):
    env(**complete(cert_files))
    s = Settings.from_env()
    assert s.wechat_api_base_url == WECHAT_API and not s.uses_sandbox
    assert s.wechat_oa_token == '' and s.wechat_oa_aes_key == ''  # official account off, not the sandbox's


def test_a_process_refuses_to_start_and_says_why(env, tmp_path):
    environment = dict(os.environ, WECHAT_APP_ID='wxrealapp', DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, '-m', 'flask', '--app', 'wsgi', 'audit'], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert 'WECHAT_API_KEY is not set' in result.stdout + result.stderr


@pytest.mark.parametrize('name', ['ADMIN_TOKEN', 'SECRET_KEY'])
def test_a_guessable_admin_token_or_secret_key_stops_production(env, cert_files, name):
    env(**complete(cert_files, **{name: 'admin'}))
    with pytest.raises(ConfigError) as refused:
        Settings.from_env()
    assert f'{name} needs at least 32 characters' in str(refused.value)
