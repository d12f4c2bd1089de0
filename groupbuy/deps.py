"""What every domain operation runs with: the clock, Redis stores, the payment gateway and the
job queue. Built once by `config.wiring.build_deps`; tests build their own."""
from dataclasses import dataclass, field

from .clock import SystemClock
from .deadline_index import DeadlineIndex
from .ports import Enqueue, PaymentGateway
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
    ledger: SeatLedger = field(init=False)
    deadlines: DeadlineIndex = field(init=False)

    def __post_init__(self):
        self.ledger = SeatLedger(self.redis, self.key_prefix)
        self.deadlines = DeadlineIndex(self.redis, self.key_prefix)

    def now(self):
        return self.clock.now()
