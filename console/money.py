"""Finance: refunds that need attention (with retry) and the money audit (`flask audit` in a page)."""
from flask import flash, redirect, render_template, request, url_for

from groupbuy import audit, refunds
from miniapp_api.runtime import runtime as rt

from .forms import whole_number
from .session import console_blueprint, log_action, needs

bp = console_blueprint('console_money', __name__)


@bp.get('/refunds')
@needs('view')
def refund_list():
    status = request.args.get('status', 'failed') or None
    return render_template('console/refunds.html', refunds=refunds.list_refunds(status), status=status,
                           statuses=refunds.ATTENTION_STATUSES)


@bp.post('/refunds/<id:refund_id>/retry')
@needs('refunds')
def retry(refund_id: int):
    before = refunds.get_refund(refund_id)
    after = refunds.retry_refund(rt().deps, refund_id)
    log_action('retry_refund', f'refund:{refund_id}', before={'status': before.status, 'last_error': before.last_error,
                                                               'out_refund_no': before.out_refund_no},
               after={'status': after.status, 'out_refund_no': after.out_refund_no})
    flash(f'退款 #{refund_id} 已重新提交（{after.out_refund_no}）', 'ok')
    return redirect(url_for('.refund_list'))


@bp.get('/audit')
@needs('audit')
def money_audit():
    grace_s = whole_number(request.args.get('grace_s'), 'grace_s', lowest=0, highest=10 ** 7)
    grace_s = 600 if grace_s is None else grace_s
    return render_template('console/audit.html', offenders=audit.audit(rt().deps.now(), grace_s), grace_s=grace_s)
