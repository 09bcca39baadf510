"""What the tests through a real worker share: a private broker and an SMTP sink, each a test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications.mail_sink import MailSink
from tests.integration.celery_helpers import PrivateRedis, private_broker


@pytest.fixture
def broker(tmp_path) -> Iterator[PrivateRedis]:
    with private_broker(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as running:
        yield running
