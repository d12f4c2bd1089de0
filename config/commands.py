"""`flask` commands: migrate, seed-demo, audit, worker, scheduler, rebuild-redis, revoke-tokens, admin, risk, up,
simulate (simulator/command.py)."""
import sys

import click
from flask import current_app
from flask.cli import with_appcontext


def _runtime():
    return current_app.extensions['pinke']


@click.command('migrate')
@with_appcontext
def migrate_command():
    """Apply database migrations (safe to run again)."""
    from groupbuy.migrations import migrate
    applied = migrate(_runtime().database)
    click.echo(f'applied: {", ".join(applied)}' if applied else 'database is up to date')


@click.command('seed-demo')
@with_appcontext
def seed_demo_command():
    """Create the demo course and campaigns if there are none."""
    from .demo_data import seed_demo
    for line in seed_demo():
        click.echo(line)


@click.command('audit')
@click.option('--grace', default=600, show_default=True,
              help='seconds money may be in flight (refund submitted, deadline just passed) before it counts')
@with_appcontext
def audit_command(grace):
    """Check the money invariants; exit 1 and list the offenders if any is broken."""
    from groupbuy.audit import audit
    rt = _runtime()
    offenders = audit(rt.deps.now(), grace_s=grace, pay_appids=tuple(rt.pay_clients))
    for offender in offenders:
        click.echo(str(offender))
    if offenders:
        click.echo(f'{len(offenders)} offender(s)', err=True)
        sys.exit(1)
    click.echo('audit clean: every paid order is fulfilled, refunded, or on its way within the grace')


@click.command('worker')
@click.option('--burst', is_flag=True, help='exit when the queues are empty')
@click.option('--queues', default='settlement,refunds,notifications,broadcast', show_default=True,
              help='queues to take jobs from, most urgent first')
@click.option('--nice', default=0, show_default=True,
              help='lower this worker\'s CPU priority (0–19), so deadline work wins a busy machine')
@with_appcontext
def worker_command(burst, queues, nice):
    """Run an RQ worker (money first: settlement, refunds; then notifications and broadcasts)."""
    import os
    import uuid

    from jobs.queues import QUEUE_NAMES
    from jobs.worker import Worker, run_worker
    names = [q.strip() for q in queues.split(',') if q.strip()]
    unknown = set(names) - set(QUEUE_NAMES)
    if unknown:
        raise click.BadParameter(f'unknown queue(s) {", ".join(sorted(unknown))}; known: {", ".join(QUEUE_NAMES)}')
    if nice:
        os.nice(max(0, min(19, nice)))
    rt = _runtime()
    run_worker(lambda: Worker(rt.queues.all(names), connection=rt.queues.redis,
                              name=f'{rt.queues.id_prefix}{uuid.uuid4().hex[:12]}'), burst=burst)


@click.command('scheduler')
@with_appcontext
def scheduler_command():
    """Run the scheduler: deadlines and pay windows on time, plus the database sweeper."""
    from jobs.scheduler import run_scheduler
    run_scheduler(_runtime())


@click.command('rebuild-redis')
@with_appcontext
def rebuild_redis_command():
    """Rebuild seat ledgers and the deadline index from the database."""
    from groupbuy.sweeper import restore_redis
    click.echo(f'restored: {restore_redis(_runtime().deps)}')


@click.command('revoke-tokens')
@click.argument('user_id', type=click.IntRange(1, 2**63 - 1))
@with_appcontext
def revoke_tokens_command(user_id):
    """Sign a user out everywhere: every token issued to them stops working."""
    from groupbuy import accounts, errors
    try:
        accounts.revoke_tokens(user_id)
    except errors.NotFound as exc:
        raise click.ClickException(exc.message)
    click.echo(f'user {user_id}: every token revoked')


@click.group('admin')
def admin_group():
    """Operator accounts for the console (/admin)."""


@admin_group.command('create')
@click.argument('name')
@click.option('--role', type=click.Choice(['operator', 'analyst', 'finance']), required=True,
              help='operator: campaigns, groups, broadcasts; analyst: read and export; finance: refunds, audit')
@click.option('--password', prompt=True, hide_input=True, confirmation_prompt=True,
              envvar='PINKE_OPERATOR_PASSWORD', show_envvar=True,
              help='at least 10 characters; asked for when not given (prefer that, or the environment variable, '
                   'to keeping it in shell history)')
@with_appcontext
def admin_create_command(name, role, password):
    """Make an operator account (the first one, or another)."""
    from groupbuy import errors, operators
    try:
        operator = operators.create_operator(name, password, role, _runtime().deps.now())
    except errors.InvalidInput as exc:
        raise click.ClickException(exc.message)
    operators.record_action(None, 'create_operator', f'operator:{operator.id}', _runtime().deps.now(),
                            after={'name': name, 'role': role, 'by': 'flask admin create'})
    click.echo(f'operator {name} ({role}) created: sign in at {_runtime().settings.public_base_url}/admin/')


@admin_group.command('disable')
@click.argument('name')
@with_appcontext
def admin_disable_command(name):
    """Someone left: no more sign-ins, and their open sessions end now."""
    from groupbuy import errors, operators
    try:
        operator = operators.disable(name, _runtime().deps.now())
    except errors.NotFound as exc:
        raise click.ClickException(exc.message)
    operators.record_action(None, 'disable_operator', f'operator:{operator.id}', _runtime().deps.now())
    click.echo(f'operator {name} disabled')


@click.group('risk')
def risk_group():
    """Risk control: try a rule change on the recorded decisions before switching it on."""


@risk_group.command('replay')
@click.option('--rules', 'rules_file', type=click.File('r', encoding='utf-8'),
              help='JSON of changes to the default rules (as a campaign stores them); none: each campaign\'s own')
@click.option('--from', 'first', type=click.DateTime(), help='UTC, e.g. 2026-11-01 or 2026-11-01T08:00:00')
@click.option('--to', 'last', type=click.DateTime())
@click.option('--show', default=20, show_default=True, help='how many changed decisions to list')
@with_appcontext
def risk_replay_command(rules_file, first, last, show):
    """What these rules would have allowed, challenged, sent to review and blocked, against what happened."""
    from groupbuy.risk.replay import replay
    from groupbuy.risk.rules import VERDICTS, RuleConfig
    try:
        rules = RuleConfig.from_json(rules_file.read()) if rules_file else None
    except ValueError as exc:
        raise click.ClickException(f'the rules file: {exc}')
    result = replay(first, last, rules)
    which = f'rules {rules.version}' if rules else "each campaign's own rules"
    click.echo(f'{result.checked} opens and joins replayed under {which}')
    click.echo(f'{"decision":<10} {"live":>8} {"replayed":>9}')
    for verdict in VERDICTS:
        click.echo(f'{verdict:<10} {result.live[verdict]:>8} {result.replayed[verdict]:>9}')
    click.echo(f'{len(result.changes)} decision(s) would change')
    for c in result.changes[:show]:
        click.echo(f'  check {c.check_id} {c.at:%Y-%m-%d %H:%M:%S} {c.action} user {c.user_id} group {c.group_id}: '
                   f'{c.live} → {c.replayed} {c.reasons}')


@click.command('up')
@with_appcontext
def up_command():
    """Start the whole system in the foreground: sandbox, web, worker, scheduler (Ctrl-C stops all)."""
    from .devstack import run_stack
    sys.exit(run_stack(_runtime()))


def init_app(app) -> None:
    for command in (migrate_command, seed_demo_command, audit_command, worker_command,
                    scheduler_command, rebuild_redis_command, revoke_tokens_command, admin_group, risk_group,
                    up_command):
        app.cli.add_command(command)
    from simulator.command import simulate_command  # the crowd simulator (simulator/), `flask simulate`
    app.cli.add_command(simulate_command)
