"""The development mail backend that keeps what it sends for the demo mailbox, and reading it back."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class DemoMailboxBackend(ConsoleBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = super().send_messages(email_messages)
        folder = Path(settings.DEMO_MAILBOX_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            (folder / f"{stamp}-{uuid4().hex[:8]}.eml").write_bytes(message.message().as_bytes())
        return sent


@dataclass
class KeptMessage:
    key: str
    sent_at: datetime
    to: str
    subject: str
    text: str
    html: str


def _read(path: Path) -> KeptMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return KeptMessage(
        key=path.stem,
        sent_at=datetime.strptime(path.stem.split("-")[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC),
        to=str(parsed["To"]),
        subject=str(parsed["Subject"]),
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else "",
    )


def kept_messages(limit: int = 100) -> list[KeptMessage]:
    folder = Path(settings.DEMO_MAILBOX_DIR)
    if not folder.exists():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def kept_message(key: str) -> KeptMessage | None:
    path = Path(settings.DEMO_MAILBOX_DIR) / f"{key}.eml"
    if "/" in key or not path.is_file():
        return None
    return _read(path)
