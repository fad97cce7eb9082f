"""A local SMTP server for tests (aiosmtpd): it keeps every mail it accepts, or refuses every
recipient, on a free port of 127.0.0.1, optionally doing something while a mail comes in; and a
port where nothing listens."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A port nothing listens on (the kernel's choice, closed again at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    """aiosmtpd's handler: every mail accepted, parsed; or every recipient refused."""

    refuse: bool = False
    port: int = 0  # where it listens, once started
    messages: list[EmailMessage] = field(default_factory=list)
    while_receiving: Callable[[], None] | None = None  # run (in a thread) before a mail is accepted

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        if self.while_receiving is not None:
            await asyncio.to_thread(self.while_receiving)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    @staticmethod
    def body(message: EmailMessage, subtype: str = "plain") -> str:
        part = message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        return str(part.get_content())  # type: ignore[attr-defined]


def start_sink(sink: Sink) -> Controller:
    for _attempt in range(5):  # another process may take the free port first
        controller = Controller(sink, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        sink.port = controller.port
        return controller
    raise RuntimeError("no free port for the SMTP sink")
