"""Webhook delivery from the durable outbox: oldest message first, retried with exponential backoff.

A message leaves the outbox only once the receiver answered 2xx, so a receiver that is down, or a worker that is
killed, loses nothing; the next message waits until the one before it went through, so receivers get frames in
order. Each request carries `X-Modelyard-Delivery` (the message id), letting a receiver drop the rare repeat
after a crash between its answer and the outbox update.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.exc import SQLAlchemyError

from modelyard.db.base import utcnow
from modelyard.db.engine import Database, transaction
from modelyard.stream.repository import StreamRepository
from modelyard.stream.sinks import SinkCounters

log = structlog.get_logger("modelyard.stream.webhook")
FIRST_RETRY_SECONDS = 0.2
LONGEST_RETRY_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 10.0
IDLE_POLL_SECONDS = 0.2


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt of a message that failed `attempts` times (1, 2, ...)."""
    return min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))


class WebhookDelivery(threading.Thread):
    kind = "webhook"

    def __init__(self, db: Database, sink_id: str, url: str, stop: threading.Event) -> None:
        super().__init__(name=f"webhook-{sink_id[:8]}", daemon=True)
        self.db, self.id, self.url, self.stop = db, sink_id, url, stop
        self.counters = SinkCounters()
        self.queued = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as http:
            while not self.stop.is_set():
                try:
                    self._deliver_next(http)
                except SQLAlchemyError as error:  # a busy database: try again shortly
                    log.warning("stream.webhook.database_busy", sink=self.id, error=type(error).__name__)
                    self.stop.wait(IDLE_POLL_SECONDS)

    def _deliver_next(self, http: httpx.Client) -> None:
        with transaction(self.db.read_sessions) as session:
            message = StreamRepository(session).oldest_message(self.id)
            if message is not None:
                message_id, attempts, due = message.id, message.attempts, message.next_attempt_at
                sequence, payload = message.sequence, message.payload
        if message is None:
            self.queued.wait(IDLE_POLL_SECONDS)
            self.queued.clear()
            return
        wait = (due - utcnow()).total_seconds()
        if wait > 0:
            self.stop.wait(min(wait, IDLE_POLL_SECONDS))
            return
        error = None
        try:
            response = http.post(self.url, json=payload, headers={"X-Modelyard-Delivery": str(message_id),
                                                                  "X-Modelyard-Sequence": str(sequence)})  # fmt: skip
            if not response.is_success:
                error = f"the receiver answered HTTP {response.status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        with transaction(self.db.sessions) as session:
            repository = StreamRepository(session)
            if error is None:
                repository.delivered(message_id)
            else:
                repository.attempt_failed(message_id, utcnow() + timedelta(seconds=retry_delay(attempts + 1)), error)
        if error is None:
            self.counters.delivered += 1
        else:
            self.counters.failed += 1
            log.info("stream.webhook.retrying", sink=self.id, message=message_id, attempts=attempts + 1, error=error)

    def outbox_counts(self) -> tuple[int, int]:
        """(pending, retrying) messages of this sink in the outbox."""
        with transaction(self.db.read_sessions) as session:
            return StreamRepository(session).outbox_counts(self.id)
