"""Timed actions on a heap, run by a pool of threads when they are due. Ten thousand people over five minutes
are a few dozen actions a second, each waiting on one HTTP answer: a heap of what is due next and a pool as
large as the requests in flight carry them, where a thread per person would not.

When the server slows, answers take longer, more requests are in flight, and the pool can fill up. Then the
people already in the flow (paying, sharing, answering a nudge) go first and newcomers wait: a payment held
back behind the crowd's arrivals would miss its pay window for the simulator's sake, not the server's. How far
behind schedule actions started (`lags`) says whether the simulator kept up."""
import heapq
import itertools
import queue
import threading
import time

FIRST, LATER = 0, 1  # people already in the flow, newcomers


class Timeline:
    def __init__(self, workers: int = 256):
        self.start = time.monotonic()
        self._timed: list = []  # (due, order, priority, action, args)
        self._ready: queue.PriorityQueue = queue.PriorityQueue()  # (priority, due, order, action, args)
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._pending = 0  # timed, ready or running
        self.workers = workers
        self.lags: list[float] = []  # seconds each action started after it was due
        self.failures: list[str] = []  # an action that raised (a bug in the simulator, never a server answer)

    def now(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start

    def at(self, offset_s: float, action, *args, priority: int = FIRST) -> None:
        """Run `action(*args)` at `offset_s` seconds after the start (as soon as a thread is free if that has
        passed)."""
        with self._changed:
            heapq.heappush(self._timed, (offset_s, next(self._order), priority, action, args))
            self._pending += 1
            self._changed.notify_all()

    def after(self, delay_s: float, action, *args) -> None:
        self.at(self.now() + delay_s, action, *args)

    def run(self) -> None:
        """Until nothing is due and nothing is running."""
        threads = [threading.Thread(target=self._work, daemon=True, name=f'person-{i}') for i in range(self.workers)]
        for t in threads:
            t.start()
        with self._changed:
            while self._pending:
                while self._timed and self._timed[0][0] <= self.now():
                    due, order, priority, action, args = heapq.heappop(self._timed)
                    self._ready.put((priority, due, order, action, args))
                self._changed.wait(self._timed[0][0] - self.now() if self._timed else None)
        for _ in threads:
            self._ready.put((-1, 0, 0, None, ()))  # stop
        for t in threads:
            t.join()

    def _work(self) -> None:
        while True:
            _, due, _, action, args = self._ready.get()
            if action is None:
                return
            self.lags.append(max(0.0, self.now() - due))
            try:
                action(*args)
            except Exception as exc:  # noqa: BLE001 — counted and shown, the rest of the crowd goes on
                self.failures.append(f'{getattr(action, "__name__", action)}: {type(exc).__name__}: {exc}')
            finally:
                with self._changed:
                    self._pending -= 1
                    self._changed.notify_all()
