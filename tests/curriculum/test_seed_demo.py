"""The demo program `make run` shows is never made outside DEBUG (what it holds: tests/demo/test_demo.py)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User


def test_it_refuses_to_run_without_debug(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()
