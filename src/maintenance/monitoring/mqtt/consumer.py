"""The MQTT consumer: a persistent QoS 1 session whose messages are stored in batches and
acknowledged only once their batch has committed.

Why nothing is lost or doubled:

- the client id is fixed per ingest name and the session persists (MQTT 5 ``clean_start=False``
  with a session expiry), so the broker queues messages while the consumer is away and
  re-delivers every message it has sent but not had acknowledged;
- acknowledgements are manual (``manual_ack_set(True)``): a message is acknowledged after the
  transaction holding its reading (or its refusal) has committed. A consumer killed between the
  commit and the acknowledgement gets the message again; ingest is idempotent by
  (point, taken_at), so the second copy is counted as a duplicate and not stored;
- a message received on a connection that has since dropped is not acknowledged at all (its
  message id belongs to the old connection): the broker re-delivers it on the new one.

paho's network thread (``loop_start``) reads messages into a queue and reconnects with backoff
when the broker goes away; this thread takes batches off the queue (up to ``batch_size``
messages or ``batch_seconds`` after the first), stores them in one transaction, and acknowledges.

A message without a time in its payload is given the receipt time, so only messages that carry
their time are exactly-once across re-delivery.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlmodel import Session

from maintenance.exceptions import MaintenanceError
from maintenance.i18n import gettext as _
from maintenance.monitoring.mqtt import service
from maintenance.monitoring.mqtt.mapping import Mapper
from maintenance.monitoring.mqtt.service import HEARTBEAT_SECONDS, BatchResult, Message

logger = logging.getLogger("maintenance.mqtt")

QOS = 1
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600  # the broker keeps a week of readings for a stopped consumer
RECEIVE_MAXIMUM = 65_535  # unacknowledged messages the broker may send (MQTT 5's largest)
RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS = 1, 30
_URL_PASSWORD = re.compile(r"^((?:[^:/@]*://)?[^:/@]*):[^/@]*@")
# A batch failing this often is split in halves (a message failing alone this often is refused).
STORE_ATTEMPTS = 3
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> Broker:
        """``mqtt://[user[:password]@]host[:port]`` (``mqtts://`` for TLS, port 8883); a password
        is better given apart (:meth:`with_password`): a URL shows in the process list."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
            raise ValueError(f"not an MQTT broker URL: {redacted(url)!r} (mqtt://host:port)")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def with_password(self, password: str) -> Broker:
        if self.username is None:
            raise ValueError("a broker password needs a user name: mqtt://user@host:port")
        return replace(self, password=password)


def redacted(url: str) -> str:
    """``url`` with its password (``user:password@``) hidden, for messages."""
    return _URL_PASSWORD.sub(r"\1:***@", url)


@dataclass
class ConsumerSettings:
    name: str
    broker: Broker
    topics: list[str]
    token: str | None = None
    username: str | None = None
    batch_size: int = 1000
    batch_seconds: float = 0.5
    keepalive: int = 30


@dataclass
class _Received:
    generation: int
    mid: int
    message: Message


@dataclass
class Throughput:
    """Readings stored over the last minute, from the batches' times and counts."""

    window: float = 60.0
    _batches: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, moment: float, stored: int) -> int:
        self._batches.append((moment, stored))
        while self._batches and self._batches[0][0] < moment - self.window:
            self._batches.popleft()
        return sum(count for _, count in self._batches)


class Consumer:
    """One ingest: ``run()`` until :meth:`stop` (a signal handler calls it)."""

    def __init__(
        self,
        settings: ConsumerSettings,
        mapper: Mapper,
        transaction: Callable[[], AbstractContextManager[Session]],
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.mapper = mapper
        self.transaction = transaction
        self.clock = clock
        self.stopping = threading.Event()
        self.subscribed = threading.Event()
        self._queue: queue.SimpleQueue[_Received] = queue.SimpleQueue()
        self._lock = threading.Lock()  # held while acknowledging; the disconnect moves the generation under it
        self._generation = 0
        self._connection_changed = False
        self._throughput = Throughput()
        self._last_recorded = -HEARTBEAT_SECONDS
        self.client = self._client()

    # --- paho's thread ---------------------------------------------------------------------

    def _client(self) -> Client:
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"maintenance-ingest-{self.settings.name}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        client.manual_ack_set(True)
        client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        broker = self.settings.broker
        if broker.username is not None:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(
        self, client: Client, userdata: Any, flags: ConnectFlags, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            logger.error("broker refused the connection: %s", reason)
            return
        logger.info(
            "connected to %s:%s (session %s)",
            self.settings.broker.host,
            self.settings.broker.port,
            "resumed" if flags.session_present else "new",
        )
        client.subscribe([(topic, QOS) for topic in self.settings.topics])

    def _on_subscribe(
        self, client: Client, userdata: Any, mid: int, reasons: list[ReasonCode], properties: Any
    ) -> None:
        refused = [reason for reason in reasons if reason.is_failure]
        if refused:
            logger.error("subscription refused: %s", ", ".join(str(reason) for reason in refused))
            return
        logger.info("subscribed to %s (QoS %s)", ", ".join(self.settings.topics), QOS)
        with self._lock:
            self._connection_changed = True  # recorded in the statistics by the next (maybe empty) batch
        self.subscribed.set()

    def _on_disconnect(
        self, client: Client, userdata: Any, flags: DisconnectFlags, reason: ReasonCode, properties: Any
    ) -> None:
        with self._lock:
            self._generation += 1
            self._connection_changed = True
        self.subscribed.clear()
        if not self.stopping.is_set():
            logger.warning("disconnected (%s): reconnecting", reason)

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        received = Message(message.topic, bytes(message.payload), self.clock())
        self._queue.put(_Received(self._generation, message.mid, received))

    # --- this thread -----------------------------------------------------------------------

    def connect(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        broker = self.settings.broker
        # connect_async: the network thread connects, and retries with backoff while the broker is down.
        self.client.connect_async(
            broker.host, broker.port, keepalive=self.settings.keepalive, clean_start=False, properties=properties
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Consume until stopped; the batch in hand when stopping is stored and acknowledged."""
        self.connect()
        try:
            while not self.stopping.is_set():
                batch = list(self._next_batch())
                self._store(batch)
            self._store(list(self._drain()))
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            self._record_connection(connected=False)

    def _next_batch(self) -> Iterator[_Received]:
        settings = self.settings
        try:
            first = self._queue.get(timeout=settings.batch_seconds)
        except queue.Empty:
            return
        yield first
        deadline = time.monotonic() + settings.batch_seconds
        for _count in range(settings.batch_size - 1):
            remaining = deadline - time.monotonic()
            try:
                yield self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                return

    def _drain(self) -> Iterator[_Received]:
        while True:
            try:
                yield self._queue.get_nowait()
            except queue.Empty:
                return

    def _store(self, batch: list[_Received]) -> None:
        """Store ``batch``, then acknowledge it. Messages of a connection that has dropped are
        left to the broker's re-delivery."""
        generation = self._generation
        current = [item for item in batch if item.generation == generation]
        with self._lock:
            connection_changed, self._connection_changed = self._connection_changed, False
        if not current and not connection_changed and time.monotonic() - self._last_recorded < HEARTBEAT_SECONDS:
            return
        result = self._store_or_split(current)
        self._last_recorded = time.monotonic()
        with self._lock:
            if self._generation == generation:
                for item in current:
                    self.client.ack(item.mid, QOS)
        if current:
            logger.debug(
                "batch: %s received, %s stored, %s duplicates, %s refused",
                result.received,
                result.stored,
                result.duplicates,
                result.refused,
            )

    def _store_or_split(self, items: list[_Received]) -> BatchResult:
        """Store ``items`` in one transaction, retried. A batch failing :data:`STORE_ATTEMPTS`
        times is split in halves, each stored the same way, so a message the database refuses
        whatever happens ends up alone: then it is kept as a refusal (when that can be stored),
        and the queue moves on. A database that is down fails the refusal too: retried until it is back."""
        failures = 0
        while True:
            try:
                return self._commit(items)
            except MaintenanceError:
                raise  # the token revoked, the user deactivated: stop, leaving the messages to the broker
            except Exception as error:
                if self.stopping.is_set():
                    raise
                failures += 1
                logger.exception("storing a batch of %s messages failed (%s times)", len(items), failures)
                last_error = error
            if failures >= STORE_ATTEMPTS and len(items) > 1:
                half = len(items) // 2
                return _sum(self._store_or_split(items[:half]), self._store_or_split(items[half:]))
            if failures >= STORE_ATTEMPTS and items:
                refused = self._refuse(items[0], last_error)
                if refused is not None:
                    return refused
            self.stopping.wait(RETRY_SECONDS)

    def _commit(self, items: list[_Received]) -> BatchResult:
        with self.transaction() as session:
            writer = service.ingest_user(session, token=self.settings.token, username=self.settings.username)
            now = self.clock()
            result = service.store_batch(
                session,
                [item.message for item in items],
                self.mapper,
                ingest=self.settings.name,
                writer=writer,
                now=now,
            )
            self._record(session, result, now)
        return result

    def _refuse(self, item: _Received, error: Exception) -> BatchResult | None:
        """Keep the message whose storing failed alone as a refusal; None if that fails too."""
        cause = getattr(error, "orig", None) or error
        reason = _(
            "The message could not be stored: %(error)s", error=(str(cause).strip() or type(cause).__name__)[:300]
        )
        try:
            with self.transaction() as session:
                now = self.clock()
                result = service.refuse_message(session, item.message, reason, ingest=self.settings.name, now=now)
                self._record(session, result, now)
        except MaintenanceError:
            raise
        except Exception:
            logger.exception("keeping the message that cannot be stored as refused failed")
            return None
        logger.error("a message on %s cannot be stored: refused (%s)", item.message.topic, reason)
        return result

    def _record(self, session: Session, result: BatchResult, now: datetime) -> None:
        per_minute = self._throughput.add(time.monotonic(), result.stored)
        service.record_stats(
            session, self.settings.name, result, now=now, per_minute=per_minute, connected=self.client.is_connected()
        )

    def _record_connection(self, *, connected: bool) -> None:
        try:
            with self.transaction() as session:
                service.record_stats(session, self.settings.name, None, now=self.clock(), connected=connected)
        except Exception:
            logger.exception("could not record the stop")


def _sum(first: BatchResult, second: BatchResult) -> BatchResult:
    """The counts of a batch stored in two parts (for the log)."""
    return BatchResult(
        received=first.received + second.received,
        stored=first.stored + second.stored,
        duplicates=first.duplicates + second.duplicates,
        refused=first.refused + second.refused,
    )
