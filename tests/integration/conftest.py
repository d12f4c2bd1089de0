"""Fixtures several integration modules share."""
import pytest

from tests.support.sandbox_server import running_sandbox


@pytest.fixture(scope='module')
def sandbox_port():
    with running_sandbox() as (_, base):
        yield int(base.rsplit(':', 1)[1])


@pytest.fixture
def on_sandbox(make_app, clock, sandbox_port):
    """`on_sandbox(**settings)`: the app on the sandbox (logins, prepay ids) and on the test's clock."""
    def build(**settings):
        app = make_app(sandbox_port=sandbox_port, **settings)
        app.extensions['pinke'].deps.clock = clock
        return app
    return build
