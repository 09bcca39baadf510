"""The tests that read the whole demo: what it holds, every page its people reach (in both languages),
and its pages under the content security policy. They share one seed."""

import pytest


@pytest.fixture(scope="package")
def seeded_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo program, seeded once for this whole folder (a seed takes 15-20 s) in a transaction that
    is rolled back after its last test. Each test runs in a savepoint inside it (ask for `db` too), so
    no test sees another's writes. No transactional test belongs here."""
    from django.core.management import call_command
    from django.db import transaction
    from django.test.utils import override_settings

    with django_db_blocker.unblock():
        holding = transaction.atomic()
        holding.__enter__()
        try:
            with override_settings(DEBUG=True, DEMO_MAILBOX_DIR=tmp_path_factory.mktemp("demo-mail")):
                call_command("seed_demo")
            yield
        finally:
            transaction.set_rollback(True)
            holding.__exit__(None, None, None)
