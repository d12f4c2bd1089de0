"""Small builders for domain-level tests: a course with a campaign, users, paying a checkout."""
import itertools

from groupbuy import catalog, payments
from groupbuy.models import User

_users = itertools.count(1)


def campaign(**overrides):
    course = catalog.create_course('Python 入门', 19900)
    terms = dict(course_id=course.id, group_size=3, duration_s=3600, group_price_fen=9900)
    terms.update(overrides)
    return catalog.create_campaign(**terms)


def login(openid: str) -> tuple[User, bool]:
    """A mini-program user for a test, made directly (the real door, with its analytics row and unionid
    merges, is `identity.sign_in_miniapp`). Returns (user, created)."""
    existing = User.get_or_none(User.openid == openid)
    return (existing, False) if existing else (User.create(openid=openid), True)


def user(name=None):
    return login(f'openid-{name or next(_users)}')[0]


def pay(deps, order, amount=None, txn=None):
    return payments.record_payment(deps, payments.PaymentNotice(
        out_trade_no=order.out_trade_no, transaction_id=txn or f'tx-{order.out_trade_no}',
        amount_fen=order.amount_fen if amount is None else amount))
