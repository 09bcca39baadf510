"""A local SMTP server that keeps nothing but counts: which messages arrived, to whom, and when.

The reliability tests and the send-rate bench point a real Celery worker's SMTP backend at it, so
mail goes over a real socket, as in production, and each message is recognised by its
`X-Checkoff-Message` header (the outbox row's id). It runs in a thread of the process that reads it:

    with MailSink() as sink:          # 127.0.0.1, a free port
        ... EMAIL_HOST=sink.host, EMAIL_PORT=sink.port ...
        sink.count, sink.message_counts(), sink.duplicates()

It can also play a mail server that turns some recipients away, as real ones do: each RCPT for an
address refused this way gets the next reply of its list, and once the list is used up the address is
accepted.

    MailSink(refuse={"full@school.test": ["451 4.3.0 Try again later"]})
    sink.refuse("gone@school.test", "550 5.1.1 No such user")

or on its own, printing its counts as they change: `python -m notifications.mail_sink --port 2525`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HEADER = "X-Checkoff-Message"  # as notifications.services.HEADER


@dataclass(frozen=True, slots=True)
class Received:
    message_id: int | None  # the outbox row named by its header; None: a message without one
    recipients: tuple[str, ...]
    at: float  # time.monotonic() when its DATA was accepted


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept the recipient, or answer with the next refusal chosen for that address."""
        reply = self.sink.next_refusal(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """Say PIPELINING (RFC 2920), as mail servers in production do: aiosmtpd answers commands in
        the order they come, whether a client waits for each reply or sends them together."""
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        # Only the header block is parsed: the bodies are not read, and cost nothing.
        value = _headers.parsebytes(content).get(HEADER)
        try:
            message_id = int(value) if value is not None else None
        except ValueError:
            message_id = None
        self.sink.record(Received(message_id, tuple(envelope.rcpt_tos), time.monotonic()))
        return "250 Message accepted for delivery"


_headers = BytesHeaderParser(policy=compat32)


class _Controller(Controller):
    """aiosmtpd's threaded controller, taught to listen on port 0 (the system picks a free one) and
    to say which port it got: no window between choosing a port and binding it."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class MailSink:
    """An SMTP server in a thread, counting what it receives. Thread-safe: the server's thread
    records, any other thread reads."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, refuse: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        self.host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._per_message: Counter[int] = Counter()
        self._refusals: dict[str, deque[str]] = {}
        self._refused: list[tuple[str, str]] = []
        self._controller: _Controller | None = None
        for address, replies in (refuse or {}).items():
            self.refuse(address, *replies)

    # --- Running -------------------------------------------------------------------------------

    def start(self) -> MailSink:
        # aiosmtpd logs every SMTP command at INFO: thousands of lines a second under a bench.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller = _Controller(_Handler(self), hostname=self.host, port=self._requested_port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("The mail sink is not running.")
        return int(self._controller.port)

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # --- Refusing -------------------------------------------------------------------------------

    def refuse(self, address: str, *replies: str) -> None:
        """Answer the next RCPT commands for `address` with these replies, one each, in order (e.g.
        "451 4.3.0 Try again later", "550 5.1.1 No such user"); after the last, accept it."""
        for reply in replies:
            code = reply[:3]
            if not (code.isdigit() and code[0] in "45" and reply[3:4] in ("", " ")):
                raise ValueError(f"A refusal is a 4xx or 5xx reply, e.g. '550 5.1.1 No such user': {reply!r}")
        with self._lock:
            self._refusals.setdefault(address.lower(), deque()).extend(replies)

    def next_refusal(self, address: str) -> str | None:
        """The reply to give this RCPT, or None to accept it; each refusal is given once."""
        with self._lock:
            waiting = self._refusals.get(address.lower())
            if not waiting:
                return None
            reply = waiting.popleft()
            self._refused.append((address, reply))
            return reply

    def refused(self) -> list[tuple[str, str]]:
        """Each refusal given, in order: (address, reply)."""
        with self._lock:
            return list(self._refused)

    # --- Counting ------------------------------------------------------------------------------

    def record(self, message: Received) -> None:
        with self._lock:
            self._received.append(message)
            if message.message_id is not None:
                self._per_message[message.message_id] += 1

    @property
    def count(self) -> int:
        """Every message received, an outbox row or not."""
        with self._lock:
            return len(self._received)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def message_counts(self) -> dict[int, int]:
        """How many times each outbox row arrived, by its id."""
        with self._lock:
            return dict(self._per_message)

    def message_ids(self) -> set[int]:
        with self._lock:
            return set(self._per_message)

    def duplicates(self) -> int:
        """Arrivals beyond the first of each outbox row."""
        with self._lock:
            return sum(times - 1 for times in self._per_message.values())

    def messages_per_second(self) -> float | None:
        """From the first outbox row to arrive to the last: (arrivals - 1) over the seconds between them."""
        with self._lock:
            moments = [message.at for message in self._received if message.message_id is not None]
        if len(moments) < 2 or moments[-1] == moments[0]:
            return None
        return (len(moments) - 1) / (moments[-1] - moments[0])

    def clear(self) -> None:
        """Forget what was received and refused (the refusals still to give stay)."""
        with self._lock:
            self._received.clear()
            self._per_message.clear()
            self._refused.clear()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            messages = len(self._received)
            rows = len(self._per_message)
            duplicates = sum(times - 1 for times in self._per_message.values())
        return {"messages": messages, "outbox_rows": rows, "duplicates": duplicates}


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m notifications.mail_sink", description="A local SMTP sink that counts the outbox's messages."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525, help="0: any free port")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between count lines")
    arguments = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by `kill` as by Ctrl-C: the last counts are printed
    with MailSink(arguments.host, arguments.port) as sink:
        print(f"Mail sink on {sink.host}:{sink.port}; Ctrl-C to stop.", flush=True)
        shown: dict[str, Any] = {}
        try:
            while True:
                time.sleep(arguments.every)
                summary = sink.summary()
                if summary != shown:
                    rate = sink.messages_per_second()
                    per_second = f", {rate:,.0f} outbox rows/s first to last" if rate else ""
                    print(
                        f"{summary['messages']} messages, {summary['outbox_rows']} outbox rows, "
                        f"{summary['duplicates']} duplicates{per_second}",
                        flush=True,
                    )
                    shown = summary
        except KeyboardInterrupt:
            pass
        print(f"Stopped: {sink.summary()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
