"""The numbers (groupbuy/analytics.py) for a campaign, a course or everything, over any Beijing date range:
counters with their definitions, charts drawn as SVG on the server, every table as CSV."""
from urllib.parse import urlencode

from flask import render_template, request
from markupsafe import Markup

from groupbuy import analytics, catalog
from miniapp_api import schemas
from miniapp_api.admin_analytics import AnalyticsQuery, csv_response

from . import charts
from .session import console_blueprint, needs

bp = console_blueprint('console_numbers', __name__)


@bp.get('/numbers')
@needs('view')
def numbers():
    query = schemas.parse_query(AnalyticsQuery)
    report = analytics.report(query.scope())
    drawn = {
        'opened': charts.line_chart(report['days'], 'day', 'groups_opened', '每天开团数'),
        'rate': charts.line_chart(report['days'], 'day', 'success_rate', '每天成团率', fmt=charts.percent),
        'fill': charts.bar_chart(report['time_to_fill'], 'bucket', 'groups', '成团用时（团数）'),
        'funnel': charts.funnel_chart(report['funnel'], title='分享 → 点击 → 参团 → 支付'),
        'courses': charts.bar_chart(report['courses'], 'course', 'success_rate', '课程成团率', fmt=charts.percent),
    }
    return render_template('console/numbers.html', r=report, charts={k: Markup(v) for k, v in drawn.items()},
                           args=request.args, campaigns=catalog.list_campaigns(), courses=catalog.list_courses(),
                           metrics=analytics.METRICS, tables=[t for t in analytics.TABLES],
                           qs=urlencode([(k, v) for k, v in request.args.items(multi=True)]))


@bp.get('/numbers/<table>.csv')
@needs('export')
def export(table: str):
    return csv_response(table, schemas.parse_query(AnalyticsQuery))
