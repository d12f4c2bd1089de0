"""Delivery of asynchronous notifications (payment and refund results) to notify_url.

WeChat posts a notification and keeps retrying on a fixed schedule until the merchant
answers `<return_code>SUCCESS</return_code>`; the app's idempotency and signature
handling only get exercised if the sandbox does the same. Each delivery runs in its
own daemon thread so the request that caused it (a payment confirm) never waits.
"""
import threading

import requests
import xmltodict

from . import ids

BODY_LOG_LIMIT = 500


def answered_success(text):
    """True when the merchant's answer is XML with return_code SUCCESS."""
    try:
        doc = xmltodict.parse(text)
        return doc["xml"]["return_code"] == "SUCCESS"
    except Exception:  # non-XML, wrong root, missing field: all mean "not acknowledged"
        return False


class Notifier:
    def __init__(self, store, retry_s, timeout_s=5.0):
        self._store = store
        self._retry_s = tuple(retry_s)
        self._timeout_s = timeout_s
        self._stop = threading.Event()

    def deliver(self, kind, url, body, out_trade_no, out_refund_no=None, delay_s=0.0):
        """Start delivering in the background (after `delay_s`, like a slow network); returns a
        copy of the log record."""
        record = self._store.add_delivery(kind, url, out_trade_no, out_refund_no)
        threading.Thread(target=self._run, args=(record, body, delay_s), daemon=True,
                         name=f"sandbox-notify-{record['id']}").start()
        return dict(record)

    def deliver_now(self, kind, url, body, out_trade_no, out_refund_no=None):
        """One synchronous attempt (a duplicate delivery), logged; returns its result."""
        record = self._store.add_delivery(kind, url, out_trade_no, out_refund_no, replay=True)
        return self._attempt(record, body)

    def later(self, delay_s, fn):
        """Run fn after delay_s in a daemon thread, unless the notifier is shut down."""
        def wait_then_run():
            if not self._stop.wait(delay_s):
                fn()
        threading.Thread(target=wait_then_run, daemon=True, name="sandbox-later").start()

    def shutdown(self):
        """Stop pending retries and timers (test teardown)."""
        self._stop.set()

    def _run(self, record, body, delay_s=0.0):
        if delay_s and self._stop.wait(delay_s):
            return
        waits = iter(self._retry_s)
        while not self._stop.is_set():
            if self._attempt(record, body)["delivered"]:
                return
            wait = next(waits, None)
            if wait is None:
                self._store.update_delivery(record, gave_up=True)
                return
            if self._stop.wait(wait):
                return

    def _attempt(self, record, body):
        status, text, error = None, "", None
        try:
            resp = requests.post(record["url"], data=body.encode("utf-8"),
                                 headers={"Content-Type": "text/xml"}, timeout=self._timeout_s)
            status, text = resp.status_code, resp.text
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivered = status is not None and 200 <= status < 300 and answered_success(text)
        with self._store.lock:
            record.update(
                attempts=record["attempts"] + 1, last_status=status,
                last_body=text[:BODY_LOG_LIMIT], last_error=error,
                delivered=record["delivered"] or delivered,
                last_attempt_at=ids.spaced(ids.now()),
            )
        return {"delivered": delivered, "status_code": status, "body": text, "error": error}
