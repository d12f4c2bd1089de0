"""RQ job functions: each takes ids, calls one domain function, and is harmless to run twice."""
from groupbuy import refunds, settlement

from .runtime import current


def settle_group(group_id: int) -> str:
    return settlement.settle_group(current().deps, group_id)


def release_seat(seat_id: int) -> bool:
    return settlement.release_seat(current().deps, seat_id)


def refund_order(order_id: int) -> str:
    return refunds.refund_order(current().deps, order_id)  # RefundFailed makes RQ retry


def close_payment(order_id: int) -> None:
    refunds.close_payment(current().deps, order_id)
