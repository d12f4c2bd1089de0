"""`flask simulate`: parse the operator's options, run one simulation (or fit parameters), print and keep the
report. Defaults point at this instance's own stack (`flask up` / `make run`: its ports and admin token)."""
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext


def _ints(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(',') if x.strip()]
    except ValueError:
        raise click.BadParameter(f'{text!r}: whole numbers, comma-separated') from None
    if not values or min(values) < 1:
        raise click.BadParameter(f'{text!r}: whole numbers ≥ 1, comma-separated')
    return values


@click.command('simulate')
@click.option('--people', default=200, show_default=True, type=click.IntRange(1, 1_000_000),
              help='simulated people, arriving over --minutes')
@click.option('--minutes', default=1.0, show_default=True, type=click.FloatRange(0.05, 24 * 60),
              help='how long people keep arriving (real time)')
@click.option('--size', help='group size(s), comma-separated [default: 3; --grid: 2,3,4]')
@click.option('--duration', help='group duration(s) in seconds, short ones compress a day into minutes '
                                 '[default: 120; --grid: 60,120]')
@click.option('--price', help='group price(s) in fen [default: 9900; --grid: 4900,9900,14900]')
@click.option('--list-price', default=19900, show_default=True, type=click.IntRange(1, 10_000_000),
              help="the course's own price in fen (what the discount is measured against)")
@click.option('--grid', is_flag=True,
              help='advice mode: every size × duration × price, the crowd split evenly over them, and a table of '
                   'what to set')
@click.option('--params', 'params_file', type=click.File('r', encoding='utf-8'),
              help='behaviour parameters (JSON object; see simulator/behaviour.py), e.g. from --fit-campaign')
@click.option('--fit-campaign', type=click.IntRange(1, 2**63 - 1),
              help="fit behaviour parameters from this campaign's recorded events, print them as JSON and stop")
@click.option('--api', help='the API base URL (default: this instance, http://127.0.0.1:$PORT)')
@click.option('--sandbox', help='the WeChat sandbox base URL (default: http://127.0.0.1:$SANDBOX_PORT)')
@click.option('--seed', default=1, show_default=True, help='random seed of the crowd')
@click.option('--workers', default=256, show_default=True, type=click.IntRange(1, 1000),
              help='HTTP threads: the most requests in flight (a slow server needs more; see the report\'s '
                   '"simulator behind schedule")')
@click.option('--min-success', default=0.6, show_default=True, type=click.FloatRange(0, 1),
              help='advice: the least 成团率 a recommended rule must keep')
@click.option('--json', 'json_path', help='also write the report as JSON here (- for stdout)')
@with_appcontext
def simulate_command(people, minutes, size, duration, price, list_price, grid, params_file, fit_campaign, api,
                     sandbox, seed, workers, min_success, json_path):
    """Play a crowd of simulated people against the running system; report 成团率, time to fill, the nudges'
    effect, joins/s, join latency, deadline lag, oversold seats and the audit. Exit 1 unless 0 errors,
    0 oversold, every group settled and the audit clean."""
    from groupbuy import errors

    from . import latest
    from .behaviour import Behaviour
    from .driver import Driver
    from .fit import fit_campaign as fit
    from .run import Plan, Rules, simulate, text
    from .system import System
    rt = current_app.extensions['pinke']
    try:
        behaviour = Behaviour.from_json(params_file.read()) if params_file else Behaviour()
    except ValueError as exc:
        raise click.ClickException(f'the parameters file: {exc}')
    if fit_campaign:
        try:
            fitted, basis = fit(fit_campaign, behaviour)
        except errors.NotFound as exc:
            raise click.ClickException(exc.message)
        click.echo(f'# fitted from campaign {fit_campaign}: {json.dumps(basis, ensure_ascii=False)}', err=True)
        click.echo(json.dumps(fitted.as_json(), indent=1))
        return
    sizes = _ints(size or ('2,3,4' if grid else '3'))
    durations = _ints(duration or ('60,120' if grid else '120'))
    prices = _ints(price or ('4900,9900,14900' if grid else '9900'))
    if min(sizes) < 2 or max(sizes) > 100:
        raise click.BadParameter('a group has 2 to 100 seats', param_hint='--size')
    rules = [Rules(s, d, p) for s in sizes for d in durations for p in prices]
    settings = rt.settings
    driver = Driver(api or f'http://127.0.0.1:{settings.port}', sandbox or f'http://127.0.0.1:{settings.sandbox_port}',
                    settings.admin_token)
    plan = Plan(people, minutes * 60, rules, behaviour, list_price, seed, workers, min_success)
    result = simulate(plan, driver, System(rt.deps.now), say=click.echo)
    for line in text(result):
        click.echo(line)
    click.echo(f'report kept for the console: {latest.save(settings.data_dir, result)}')
    if json_path:
        body = json.dumps(result, ensure_ascii=False, indent=1)
        if json_path == '-':
            click.echo(body)
        else:
            with open(json_path, 'w', encoding='utf-8') as f:
                f.write(body)
    if not result['ok']:
        sys.exit(1)
