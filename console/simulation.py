"""The latest crowd simulation (`flask simulate`, simulator/): when it ran and with what people, the table of
what to set when it tried several group rules, the product's and the system's figures. Shown if one ran."""
from flask import render_template

from miniapp_api.runtime import runtime as rt
from simulator import latest

from .session import console_blueprint, needs

bp = console_blueprint('console_simulation', __name__)


@bp.get('/simulation')
@needs('view')
def simulation():
    return render_template('console/simulation.html', r=latest.load(rt().settings.data_dir))
