"""The operator console (/admin): server-rendered pages over the domain, for people signed in with an
operator account (groupbuy/operators.py). Works on a laptop and a phone, offline (no CDN: one stylesheet,
charts drawn as SVG on the server)."""
from flask import Blueprint, g

from groupbuy import operators
from groupbuy.wording import beijing, beijing_stamp, time_left, yuan

NAV = [('console_overview.overview', '概览'), ('console_numbers.numbers', '数据'), ('console_campaigns.campaigns', '活动'),
       ('console_groups.groups', '拼团'), ('console_rooms.rooms', '直播'), ('console_risk.risk', '风控'), ('console_money.refund_list', '退款'),
       ('console_broadcasts.broadcast_list', '群发'), ('console_users.users', '用户'),
       ('console_simulation.simulation', '模拟'), ('console_overview.actions', '操作日志')]
ROLE_NAMES = {'operator': '运营', 'analyst': '分析', 'finance': '财务'}


def init_app(app) -> None:
    from . import broadcasts, campaigns, experiments, groups, login, money, numbers, overview, risk, users
    for module in (login, overview, numbers, campaigns, experiments, groups, risk, money, broadcasts, users):
        app.register_blueprint(module.bp)
    from . import rooms  # warm-up live rooms
    app.register_blueprint(rooms.bp)
    from . import simulation  # the latest `flask simulate` (simulator/)
    app.register_blueprint(simulation.bp)
    app.register_blueprint(login.signed_in)
    app.register_blueprint(Blueprint('console_static', __name__, static_folder='static', template_folder='templates',
                                     static_url_path='/admin/static'))
    app.add_template_filter(beijing_stamp, 'bj')
    app.add_template_filter(lambda t: f'{beijing(t):%Y-%m-%dT%H:%M}' if t else '', 'bj_input')
    app.add_template_filter(yuan, 'yuan')
    app.add_template_filter(time_left, 'duration')

    @app.context_processor
    def console_context():
        operator = g.get('operator')
        return {'nav': NAV, 'role_names': ROLE_NAMES,
                'can': lambda permission: operator is not None and operators.can(operator.role, permission)}
