"""What every domain operation runs with: the clock, Redis stores, the payment gateway and the
job queue. Built once by `config.wiring.build_deps`; tests build their own."""
import datetime as dt
from dataclasses import dataclass, field

from .clock import SystemClock
from .deadline_index import DeadlineIndex
from .ports import Enqueue, Messenger, PaymentGateway
from .seat_ledger import SeatLedger


@dataclass
class Deps:
    redis: object
    gateway: PaymentGateway
    enqueue: Enqueue
    clock: object = field(default_factory=SystemClock)
    key_prefix: str = 'pinke:'
    pay_window_s: int = 300
    refund_max_attempts: int = 5
    messenger: Messenger | None = None  # None: the in-app inbox is the only channel
    notify_max_attempts: int = 5
    quiet_hours: tuple[dt.time, dt.time] | None = (dt.time(22), dt.time(8))
    quiet_tz: str = 'Asia/Shanghai'
    enqueue_batch: object = None  # enqueue_batch([(name, args), ...]) in one round trip, if the queue can
    ledger: SeatLedger = field(init=False)
    deadlines: DeadlineIndex = field(init=False)

    def __post_init__(self):
        self.ledger = SeatLedger(self.redis, self.key_prefix)
        self.deadlines = DeadlineIndex(self.redis, self.key_prefix)

    def now(self):
        return self.clock.now()

    def enqueue_many(self, jobs: list) -> None:
        if self.enqueue_batch is not None:
            self.enqueue_batch(jobs)
        else:
            for name, args in jobs:
                self.enqueue(name, *args)
