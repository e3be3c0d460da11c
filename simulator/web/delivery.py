"""The billing-webhook delivery engine: a bounded queue of deliveries, sent from threads of
their own, so a slow or failing receiver never delays or fails an inference call.

One scheduler thread hands each due attempt to a sender thread (at most `senders` at once)
and waits for the next one on the simulator clock (WEBHOOK-CLOCK): real time by default, and
when a test freezes the clock, a retry waits until the clock is moved past its time. The
threads start with the first delivery and end when nothing is left to do or on `close()`.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from simulator.core.clock import Clock
from simulator.core.webhooks import (
    DEAD_LETTERED,
    DELIVERED,
    FAILED,
    PENDING,
    REQUEST_ID_HEADER,
    SIGNATURE_HEADER,
    Attempt,
    BillingEvent,
    Delivery,
    DeliveryPolicy,
    Receiver,
    envelope_bytes,
    outcome_of,
    signature_header,
)
from simulator.harness.webhook_faults import ATTEMPT, DELIVERY, WebhookFault, WebhookFaultBook

MAX_PENDING = 10_000  # deliveries waiting or in flight; more go to the dead-letter queue
LOG_SIZE = 1_000  # the delivery log keeps the most recent deliveries
DEAD_LETTER_SIZE = 10_000  # the dead-letter queue keeps the most recent dead letters
SENDERS = 8  # attempts in flight at once
MAX_WAIT = 1.0  # seconds a waiting scheduler sleeps before it looks at the clock again
ANSWER_BYTES = 64 * 1024  # what is read of a receiver's answer body
USER_AGENT = "frontier-gateway-sim"


class DeliveryEngine:
    """Deliveries of one app: receivers per workspace, the queue, the log and the DLQ."""

    def __init__(
        self,
        clock: Clock,
        receivers: Mapping[str, Receiver] | None = None,
        policy: DeliveryPolicy | None = None,
        *,
        senders: int = SENDERS,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.clock = clock
        self.policy = policy or DeliveryPolicy()
        self.faults = WebhookFaultBook()
        self.max_pending = max_pending
        self._configured = dict(receivers or {})
        self._receivers = dict(self._configured)
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int, Delivery]] = []
        self._order = itertools.count()
        self._log: OrderedDict[str, Delivery] = OrderedDict()
        self._dead: OrderedDict[str, Delivery] = OrderedDict()
        self._inflight = 0
        self._generation = 0  # a reset starts a new one; older attempts' results are dropped
        self._slots = threading.BoundedSemaphore(senders)
        self._scheduler: threading.Thread | None = None
        self._senders: set[threading.Thread] = set()
        self._closed = False
        clock.subscribe(self._wake)

    # Receivers.

    def receiver(self, workspace: str) -> Receiver | None:
        return self._receivers.get(workspace)

    def receivers(self) -> dict[str, Receiver]:
        return dict(self._receivers)

    def configure(self, workspace: str, receiver: Receiver | None) -> None:
        with self._cond:
            if receiver is None:
                self._receivers.pop(workspace, None)
            else:
                self._receivers[workspace] = receiver

    def rotate(self, workspace: str, secret: str) -> Receiver:
        """The workspace's new secret; the old one signs too for 24 h (WEBHOOK-ROTATION).
        LookupError without a receiver, ValueError for the same secret."""
        with self._cond:
            current = self._receivers.get(workspace)
            if current is None:
                raise LookupError(workspace)
            self._receivers[workspace] = rotated = current.rotated(secret, self.clock.now())
            return rotated

    # Deliveries.

    def wants(self, workspace: str) -> bool:
        return workspace in self._receivers

    def bill(self, event: BillingEvent) -> None:
        """Queues the event of an accepted call for its workspace's receiver, if it has one.

        Called on the inference path: it never blocks on the network and never raises.
        """
        receiver = self._receivers.get(event.workspace)
        if receiver is None:
            return
        self.send(event.workspace, [event.json()], origin="call", receiver=receiver)

    def send(
        self,
        workspace: str,
        events: Iterable[dict[str, Any]],
        *,
        origin: str = "test",
        receiver: Receiver | None = None,
    ) -> list[Delivery]:
        """Queues one envelope of `events` for the workspace's receiver (LookupError if it
        has none); a `duplicate` fault adds a copy. The deliveries made, the first the one."""
        receiver = receiver or self._receivers.get(workspace)
        if receiver is None:
            raise LookupError(workspace)
        listed = list(events)
        body = envelope_bytes(listed)
        keys = tuple(str(e.get("idempotencyKey")) for e in listed)
        made = [self._delivery(workspace, receiver, body, keys, origin)]
        if self.faults.take(workspace, DELIVERY) is not None:
            made.append(self._delivery(workspace, receiver, body, keys, "duplicate"))
        with self._cond:
            for delivery in made:
                self._enqueue(delivery)
        return made

    def redrive(self, request_ids: Iterable[str] | None = None) -> list[Delivery]:
        """Sends dead letters again, each as a new delivery (a new request id, the same
        body) to its workspace's receiver now; all of them, or those named."""
        with self._cond:
            wanted = list(self._dead) if request_ids is None else list(request_ids)
            unknown = [rid for rid in wanted if rid not in self._dead]
            if unknown:
                raise KeyError(unknown[0])
            made = []
            for rid in wanted:
                old = self._dead.pop(rid)
                receiver = self._receivers.get(old.workspace, old.receiver)
                keys = old.idempotency_keys
                made.append(self._delivery(old.workspace, receiver, old.body, keys, "redrive"))
                self._enqueue(made[-1])
            return made

    def deliveries(self, state: str | None = None, limit: int | None = None) -> list[Delivery]:
        """The most recent deliveries, oldest first, optionally in one state."""
        with self._cond:
            found = [d for d in self._log.values() if state in (None, d.state)]
        return found[-limit:] if limit else found

    def dead_letters(self) -> list[Delivery]:
        with self._cond:
            return list(self._dead.values())

    def reset(self) -> None:
        """Back to the configured receivers, with no delivery waiting, logged or dead."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._log.clear()
            self._dead.clear()
            self._receivers = dict(self._configured)
            self.faults.clear()
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Waits until no attempt is in flight or due now; False on timeout (tests)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._inflight or (self._heap and self._heap[0][0] <= self.clock.now()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, MAX_WAIT))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stops the threads; a delivery still waiting is dropped."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
            threads = [t for t in (self._scheduler, *self._senders) if t is not None]
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))

    # The machinery. Everything under `_cond` but the attempts themselves.

    def _delivery(
        self,
        workspace: str,
        receiver: Receiver,
        body: bytes,
        keys: tuple[str, ...],
        origin: str,
    ) -> Delivery:
        return Delivery(
            request_id=str(uuid.uuid4()),
            workspace=workspace,
            receiver=receiver,
            body=body,
            idempotency_keys=keys,
            created_at=self.clock.now(),
            origin=origin,
        )

    def _enqueue(self, delivery: Delivery) -> None:
        self._log[delivery.request_id] = delivery
        while len(self._log) > LOG_SIZE:
            self._log.popitem(last=False)
        if self._closed:
            self._dead_letter(delivery, "the simulator is stopping")
        elif len(self._heap) + self._inflight >= self.max_pending:
            self._dead_letter(delivery, f"more than {self.max_pending} deliveries were waiting")
        else:
            self._schedule(delivery, delivery.created_at)

    def _schedule(self, delivery: Delivery, due: float) -> None:
        delivery.next_attempt_at = due
        heapq.heappush(self._heap, (due, next(self._order), self._generation, delivery))
        if self._scheduler is None:
            self._scheduler = threading.Thread(
                target=self._run, name="frontier-sim-webhooks", daemon=True
            )
            self._scheduler.start()
        self._cond.notify_all()

    def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        delivery.state, delivery.reason, delivery.next_attempt_at = DEAD_LETTERED, reason, None
        self._dead[delivery.request_id] = delivery
        while len(self._dead) > DEAD_LETTER_SIZE:
            self._dead.popitem(last=False)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                due = self._due()
                while not due:
                    if self._closed or not (self._heap or self._inflight):
                        self._scheduler = None
                        return
                    self._cond.wait(self._pause())
                    due = self._due()
            for generation, delivery in due:
                self._slots.acquire()
                sender = threading.Thread(
                    target=self._attempt,
                    args=(generation, delivery),
                    name="frontier-sim-webhook-attempt",
                    daemon=True,
                )
                with self._cond:
                    self._senders.add(sender)
                sender.start()

    def _due(self) -> list[tuple[int, Delivery]]:
        if self._closed:
            return []
        now, due = self.clock.now(), []
        while self._heap and self._heap[0][0] <= now:
            _, _, generation, delivery = heapq.heappop(self._heap)
            delivery.next_attempt_at = None
            due.append((generation, delivery))
        self._inflight += len(due)
        return due

    def _pause(self) -> float:
        """How long to wait for the next due attempt: never past MAX_WAIT, so a clock
        changed without a notification is still noticed."""
        if not self._heap or self.clock.state().frozen:
            return MAX_WAIT
        return min(max(self._heap[0][0] - self.clock.now(), 0.0), MAX_WAIT)

    def _attempt(self, generation: int, delivery: Delivery) -> None:
        at = self.clock.now()
        started = time.perf_counter()
        status: int | None
        error: str | None
        try:
            if self._closed:  # stopped while this attempt waited for a slot: don't send
                status, error = None, "the simulator is stopping"
            else:
                fault = self.faults.take(delivery.workspace, ATTEMPT)
                status, error = self._post(delivery, fault)
        except Exception as failure:  # any failure is the attempt's outcome
            status, error = None, f"{type(failure).__name__}: {failure}"
        finally:
            self._slots.release()
        attempt = Attempt(at, status, error, (time.perf_counter() - started) * 1000)
        with self._cond:
            self._inflight -= 1
            self._senders.discard(threading.current_thread())
            if generation == self._generation and not self._closed:
                self._settle(delivery, attempt)
            self._cond.notify_all()

    def _settle(self, delivery: Delivery, attempt: Attempt) -> None:
        delivery.attempts.append(attempt)
        outcome = PENDING if attempt.status is None else outcome_of(attempt.status)
        if outcome == DELIVERED:
            delivery.state = DELIVERED
        elif outcome == FAILED:  # WEBHOOK-4XX-TERMINAL
            delivery.state = FAILED
            delivery.reason = f"the receiver answered {attempt.status}; a 4xx is not retried"
        else:  # WEBHOOK-RETRY, then WEBHOOK-DLQ
            first = delivery.attempts[0].at
            due = self.policy.next_attempt(first, len(delivery.attempts), self.clock.now())
            if due is None:
                tries = len(delivery.attempts)
                self._dead_letter(
                    delivery,
                    f"no 2xx answer in {tries} attempts within {self.policy.max_elapsed:g} s",
                )
            else:
                self._schedule(delivery, due)

    def _post(
        self, delivery: Delivery, fault: WebhookFault | None
    ) -> tuple[int | None, str | None]:
        """One attempt: (the receiver's status, None) or (None, what went wrong)."""
        if fault is not None and fault.delay_ms:
            time.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.drop == "before":
            return None, f"dropped before reaching the receiver (fault {fault.id})"
        url = urlsplit(delivery.receiver.url)
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(
            url.hostname or "", url.port, timeout=self.policy.attempt_timeout
        )
        secrets = self._signing_secrets(delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature_header(delivery.body, secrets),
            REQUEST_ID_HEADER: delivery.request_id,
        }
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        try:
            connection.request("POST", target, body=delivery.body, headers=headers)
            answer = connection.getresponse()
            answer.read(ANSWER_BYTES)
            status = answer.status
        except (OSError, http.client.HTTPException) as error:  # timeouts are OSErrors
            return None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        finally:
            connection.close()
        if fault is not None and fault.drop == "after":
            return None, f"the receiver's answer ({status}) was lost (fault {fault.id})"
        return status, None

    def _signing_secrets(self, delivery: Delivery) -> tuple[str, ...]:
        """The secrets valid now: the workspace's receiver as it is now (a rotation during
        retries signs the retries with both), else the one the delivery was made for."""
        current = self._receivers.get(delivery.workspace)
        receiver = current if current is not None and current.url == delivery.receiver.url else None
        return (receiver or delivery.receiver).secrets(self.clock.now())
