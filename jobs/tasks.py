"""RQ job functions: each takes ids, calls one domain function, and is harmless to run twice."""
import time

from groupbuy import broadcasts, notifications, nudges, refunds, settlement

from .runtime import current


def settle_group(group_id: int) -> str:
    return settlement.settle_group(current().deps, group_id)


def settle_groups(group_ids: list[int]) -> dict:
    return settlement.settle_groups(current().deps, group_ids)


def release_seat(seat_id: int) -> bool:
    return settlement.release_seat(current().deps, seat_id)


def refund_order(order_id: int) -> str:
    return refunds.refund_order(current().deps, order_id)  # RefundFailed makes RQ retry


def check_refund(order_id: int) -> str:
    return refunds.check_refund(current().deps, order_id)


def close_payment(order_id: int) -> None:
    refunds.close_payment(current().deps, order_id)


def deliver_notification(notification_id: int) -> str:
    return notifications.deliver_notification(current().deps, notification_id)  # DeliveryFailed: retry


def send_nudge(group_id: int, offset_s: int) -> int:
    return nudges.send_nudge(current().deps, group_id, offset_s)


def run_broadcast(broadcast_id: int) -> dict:
    runtime = current()
    done = broadcasts.run_broadcast(runtime.deps, broadcast_id, pace=Pacer(runtime.settings.broadcast_rate_per_s))
    return {'total': done.total, 'sent': done.sent, 'skipped': done.skipped, 'failed': done.failed}


class Pacer:
    """Lets at most `rate` pushes per second through (WeChat and SMS providers throttle senders)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval
