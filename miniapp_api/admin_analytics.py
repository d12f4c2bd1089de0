"""The console's numbers (groupbuy/analytics.py): every table as JSON in one answer, and each as CSV."""
import datetime as dt
from typing import Annotated

from flask import Response, jsonify
from pydantic import Field, ValidationInfo, field_validator

from groupbuy import analytics
from groupbuy.models import MAX_ID

from . import schemas
from .auth import admin_blueprint

bp = admin_blueprint('admin_analytics', __name__)
MAX_DAYS = 3660  # ten years: the day list stays a page, not a million rows
Day = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2999, 12, 31))]  # far from datetime's edges


class AnalyticsQuery(schemas.Query):
    campaign_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    course_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    first_day: Annotated[Day | None, Field(alias='from')] = None  # Beijing dates, both included
    to: Day | None = None

    @field_validator('to')
    @classmethod
    def after_from(cls, to, info: ValidationInfo):
        first = info.data.get('first_day')
        if to is not None and first is not None:
            if to < first:
                raise ValueError('must not be before `from`')
            if (to - first).days >= MAX_DAYS:
                raise ValueError(f'a range is at most {MAX_DAYS} days')
        return to

    def scope(self) -> analytics.Scope:
        return analytics.Scope(self.campaign_id, self.course_id, self.first_day, self.to)


@bp.get('/analytics')
def analytics_report():
    return jsonify(analytics.report(schemas.parse_query(AnalyticsQuery).scope()))


@bp.get('/analytics/<table>.csv')
def analytics_csv(table: str):
    return csv_response(table, schemas.parse_query(AnalyticsQuery))


def csv_response(table: str, query: AnalyticsQuery) -> Response:
    """One table as a CSV download named for what it holds (the console's export uses it too)."""
    rows, columns = analytics.table(table, query.scope())
    parts = [f'c{query.campaign_id}' if query.campaign_id else '', f'k{query.course_id}' if query.course_id else '',
             query.first_day.isoformat() if query.first_day else 'start', query.to.isoformat() if query.to else 'now']
    filename = '-'.join(['pinke', table] + [p for p in parts if p]) + '.csv'
    # The BOM tells Excel the file is UTF-8 (course titles and nicknames are Chinese).
    return Response('\ufeff' + analytics.to_csv(rows, columns), mimetype='text/csv',
                    headers={'Content-Disposition': f'attachment; filename="{filename}"'})
