"""The simulated people. Each arrives once (a Poisson stream over the window), holding a friend's card or
not; opens a group, or joins the friend's group or one from 凑团 (fewest seats left first, so strangers
crowd the last seats); pays through the sandbox or walks away from the pay sheet; shares what they paid for;
and, told by the system's nudge that their group is short, may share again. Every step is an HTTP call
(driver.py) scheduled on the timeline; what each person saw is kept for the report."""
import random
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field

from .behaviour import Behaviour, GroupView, arrival_times, delay, join_probability, poisson
from .driver import Driver
from .timeline import LATER, Timeline

NUDGE_CHECKS = 3  # looks at the leader's inbox after a nudge is due (the scheduler may be a moment late)


@dataclass(frozen=True)
class Cell:
    """One campaign the crowd is split over: the group rules under test."""
    campaign_id: int
    size: int
    duration_s: int
    price_fen: int
    list_price_fen: int
    nudge_offsets_s: tuple[int, ...]

    @property
    def label(self) -> str:
        return f'{self.size}人 · {self.duration_s}s · ¥{self.price_fen / 100:g}'


@dataclass
class Person:
    name: str
    device: str
    cell: Cell
    token: str | None = None


@dataclass
class GroupSeen:
    """A group as the crowd saw it: when its leader and members paid, when joins came, when nudges came."""
    cell: Cell
    leader: Person
    formed_at: float | None = None  # the leader's payment
    paid_at: list[float] = field(default_factory=list)  # every payment the sandbox took, leader's included
    payers: list[Person] = field(default_factory=list)
    joined_at: list[float] = field(default_factory=list)  # seats taken by members (201)
    nudged_at: list[float] = field(default_factory=list)
    seen_messages: set = field(default_factory=set)


@dataclass
class Invitation:
    share_code: str
    ref: str | None
    expires: float


class Crowd:
    def __init__(self, driver: Driver, timeline: Timeline, behaviour: Behaviour, cells: list[Cell], seed: int):
        self.d, self.t, self.b, self.cells = driver, timeline, behaviour, cells
        self.rng = random.Random(seed)
        self.run_id = secrets.token_hex(3)
        self._lock = threading.Lock()
        self.invitations: dict[int, list[Invitation]] = {c.campaign_id: [] for c in cells}
        self.groups: dict[str, GroupSeen] = {}
        self.counts: Counter = Counter()

    # --- randomness and shared state, under one lock (the people act on many threads) ------------------
    def chance(self, p: float) -> bool:
        with self._lock:
            return self.rng.random() < p

    def wait(self, mean_s: float) -> float:
        with self._lock:
            return delay(self.rng, mean_s)

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def plan(self, people: int, window_s: float) -> None:
        """Put every arrival on the timeline, the cells taking turns so each gets an equal share."""
        with self._lock:
            times = arrival_times(self.rng, people, window_s)
        for i, at in enumerate(times):
            cell = self.cells[i % len(self.cells)]
            self.t.at(at, self.arrive, Person(f'sim{self.run_id}-{i}', secrets.token_hex(10), cell), priority=LATER)

    def _take_invitation(self, cell: Cell) -> Invitation | None:
        now = self.t.now()
        with self._lock:
            live = [inv for inv in self.invitations[cell.campaign_id] if inv.expires > now]
            if not live:
                self.invitations[cell.campaign_id] = []
                return None
            chosen = live.pop(self.rng.randrange(len(live)))
            self.invitations[cell.campaign_id] = live
            return chosen

    # --- what people do -----------------------------------------------------------------------------------
    def arrive(self, person: Person) -> None:
        person.token = self.d.login(person.name, person.device)
        self.count('arrived')
        if person.token is None:
            self.count('login_failed')
            return
        invitation = self._take_invitation(person.cell)
        if invitation is not None:
            self.count('via_friend')
            self.d.click(person.token, person.device, invitation.share_code, invitation.ref)
            page = self.d.group(invitation.share_code, person.token, person.device)
            if page and page.get('status') == 'forming' and page.get('seats_left', 0) > 0:
                self.consider(person, invitation.share_code, page['size'], page['seats_left'],
                              self._seconds_left(invitation.share_code, page), via_friend=True)
                return
            self.count('friend_group_closed')  # full or over by now: look for another, as people do
            self.browse(person)
        elif self.chance(self.b.open_p):
            self.open(person)
        else:
            self.browse(person)

    def _seconds_left(self, share_code: str, page: dict) -> float:
        seen = self.groups.get(share_code)
        if seen and seen.formed_at is not None:
            return max(0.0, seen.formed_at + seen.cell.duration_s - self.t.now())
        return float(page.get('seconds_left', 0) or 0)

    def browse(self, person: Person) -> None:
        """凑团: the campaign's open groups, closest to filling first; one of the first three."""
        listed = self.d.open_groups(person.cell.campaign_id, person.device)[:3]
        if not listed:
            self.count('nothing_to_join')
            if self.chance(self.b.open_p):
                self.open(person)
            return
        with self._lock:
            g = listed[self.rng.randrange(len(listed))]
        self.consider(person, g['share_code'], g['size'], g['seats_left'], g['seconds_left'], via_friend=False)

    def consider(self, person: Person, share_code: str, size: int, seats_left: int, seconds_left: float,
                 via_friend: bool) -> None:
        cell = person.cell
        view = GroupView(cell.price_fen, cell.list_price_fen, size, seats_left, seconds_left, cell.duration_s)
        if not self.chance(join_probability(self.b, view, via_friend)):
            self.count('declined')
            return
        status, body = self.d.join(person.token, person.device, share_code)
        if status != 201:
            self.count(f'join_refused_{(body.get("error") or {}).get("code", status)}')
            return
        self.count('joined')
        seen = self.groups.get(share_code)
        if seen is not None:
            with self._lock:
                seen.joined_at.append(self.t.now())
        if self.chance(self.b.abandon_p):
            self.count('abandoned')
            return
        self.t.after(self.wait(self.b.pay_delay_s), self.pay, person, body, share_code)

    def open(self, person: Person) -> None:
        status, body = self.d.open_group(person.token, person.device, person.cell.campaign_id)
        if status != 201:
            self.count(f'open_refused_{(body.get("error") or {}).get("code", status)}')
            return
        self.count('opened')
        code = body['group']['share_code']
        with self._lock:
            self.groups[code] = GroupSeen(person.cell, person)
        if self.chance(self.b.leader_abandon_p):
            self.count('leader_abandoned')
            return
        self.t.after(self.wait(self.b.pay_delay_s), self.pay, person, body, code)

    def pay(self, person: Person, checkout: dict, share_code: str) -> None:
        if not self.d.pay(checkout):
            self.count('pay_refused')
            return
        self.count('paid')
        now = self.t.now()
        seen = self.groups.get(share_code)
        is_leader = seen is not None and seen.leader is person
        if seen is not None:
            with self._lock:
                seen.paid_at.append(now)
                seen.payers.append(person)
                if is_leader:
                    seen.formed_at = now
            if is_leader:
                for offset in person.cell.nudge_offsets_s:
                    due = now + person.cell.duration_s - offset
                    if due > now:
                        self.t.at(due + 1.0, self.look_for_nudge, seen, share_code, NUDGE_CHECKS)
        if self.chance(self.b.share_p if is_leader else self.b.member_share_p):
            self.t.after(self.wait(self.b.share_delay_s), self.share, person, share_code)

    def share(self, person: Person, share_code: str) -> None:
        ref = self.d.share(person.token, person.device, share_code)
        self.count('shared')
        expires = self.t.now() + self.b.invite_ttl_s
        with self._lock:
            friends = poisson(self.rng, self.b.friends_per_share)
            tapped = sum(1 for _ in range(friends) if self.rng.random() < self.b.click_p)
            self.invitations[person.cell.campaign_id] += [Invitation(share_code, ref, expires)] * tapped
            self.counts['invitations'] += tapped

    def look_for_nudge(self, seen: GroupSeen, share_code: str, checks_left: int) -> None:
        """Did the system nudge this group? (the leader's inbox says.) Its payers then may share again."""
        fresh = [m for m in self.d.messages(seen.leader.token, seen.leader.device)
                 if m.get('kind') == 'deadline_nudge' and share_code in (m.get('page') or '')
                 and m['id'] not in seen.seen_messages]
        if not fresh:
            if checks_left > 1:
                self.t.after(1.0, self.look_for_nudge, seen, share_code, checks_left - 1)
            return
        with self._lock:
            seen.seen_messages.update(m['id'] for m in fresh)
            seen.nudged_at.append(self.t.now())
            payers = list(seen.payers)
        self.count('nudges_seen')
        for payer in payers:
            if self.chance(self.b.nudge_share_p):
                self.share(payer, share_code)
