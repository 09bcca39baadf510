"""People as fixtures: alice the student, bob her classmate, irene her instructor, ivan who teaches
another cohort, dana the director, carlos the coordinator, paula a preceptor-to-be, and olga an outsider."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from curriculum.models import StaffRole
from tests import factories

# The longest tests and groups, started first. Under `make test`'s processes, a walk of a minute or two that
# starts last keeps the other processes idle until it ends; started first, it runs beside everything else.
LONGEST_FIRST = (
    "tests/browser/test_accessibility_crawl.py",
    "tests/test_malformed_input.py",
    "tests/production/test_stack.py",
    "tests/demo/",
    "tests/backups/",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next(
            (index for index, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST)
        )

    items.sort(key=rank)  # stable: within a rank, the order collected


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database's tables are never autovacuumed. Tests roll their rows back, leaving only dead
    ones; a vacuum in the middle of a long test (the crawl, the demo modules) counts the test's own
    uncommitted rows as none and writes that into the table's size estimate, and the planner, taking
    each table for a row or two, looped over every attempt per student: a page ran for minutes on
    PostgreSQL 18. Production tables hold committed rows, where autovacuum is right."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT format('ALTER TABLE %I.%I SET (autovacuum_enabled = false)', schemaname, relname) "
            "FROM pg_stat_user_tables"
        )
        for (statement,) in cursor.fetchall():
            cursor.execute(statement)
    return django_db_setup


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """A transactional test ends with Django's flush, which empties every table with TRUNCATE, and the
    append-only tables refuse TRUNCATE (a statement trigger). Just before the flush, this connection
    stops firing triggers (session_replication_role, which needs the superuser role tests run as);
    Django closes the connection after the flush, so the next test starts with triggers on."""
    if _ends_with_a_flush(item):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    return (yield)


def _ends_with_a_flush(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker and (marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0])))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters live in Redis; each test starts with none of this run's keys.

    Only our prefix is deleted: the same Redis may hold a dev worker's queue or another test run."""
    client = cache._cache.get_client(None, write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _english() -> None:
    """Each test starts in English: a request in Spanish leaves its language active in the thread,
    and code that runs outside a request (charts, exports, mail) would otherwise inherit it."""
    from django.utils import translation

    translation.activate("en")


@pytest.fixture(autouse=True)
def _mailbox(settings, tmp_path) -> None:
    settings.DEMO_MAILBOX_DIR = tmp_path / "mail"


@pytest.fixture
def program(db):
    return factories.ProgramFactory()


@pytest.fixture
def cohort(program):
    return factories.CohortFactory(program=program)


@pytest.fixture
def other_cohort(program):
    return factories.CohortFactory(program=program)


@pytest.fixture
def dana(program):
    """The program director."""
    return factories.StaffFactory(program=program, role=StaffRole.Role.DIRECTOR, first_name="Dana").user


@pytest.fixture
def carlos(program):
    """The program coordinator."""
    return factories.StaffFactory(program=program, role=StaffRole.Role.COORDINATOR, first_name="Carlos").user


@pytest.fixture
def irene(program, cohort):
    """Alice's instructor."""
    user = factories.StaffFactory(program=program, role=StaffRole.Role.INSTRUCTOR, first_name="Irene").user
    cohort.instructors.add(user)
    return user


@pytest.fixture
def ivan(program, other_cohort):
    """An instructor of another cohort of the same program."""
    user = factories.StaffFactory(program=program, role=StaffRole.Role.INSTRUCTOR, first_name="Ivan").user
    other_cohort.instructors.add(user)
    return user


@pytest.fixture
def alice(cohort):
    """A student."""
    return factories.EnrollmentFactory(cohort=cohort, student__first_name="Alice").student


@pytest.fixture
def bob(cohort):
    """Alice's classmate."""
    return factories.EnrollmentFactory(cohort=cohort, student__first_name="Bob").student


@pytest.fixture
def olga(db):
    """Signed in, but with no role anywhere."""
    return factories.UserFactory(first_name="Olga")


@pytest.fixture
def offering(cohort, irene):
    return factories.OfferingFactory(cohort=cohort, instructor=irene)


@pytest.fixture
def assignment(offering):
    return factories.AssignmentFactory(offering=offering)


# --- Externships: a site, its preceptor paula, and alice's placement there ---------------------


@pytest.fixture
def site(program):
    from tests.externship_factories import SiteFactory

    return SiteFactory(program=program, name="Lakeside Family Clinic")


@pytest.fixture
def paula(site):
    """Alice's preceptor at the site: signs in by emailed code, no password."""
    from tests.externship_factories import PreceptorFactory

    return PreceptorFactory(site=site, user__first_name="Paula").user


@pytest.fixture
def placement(alice, site, paula, carlos):
    """Alice's placement at the site with Paula, planned (not started: the gate has not run)."""
    from tests.externship_factories import PlacementFactory

    return PlacementFactory(
        enrollment=alice.enrollments.get(), site=site, preceptor=paula.preceptorships.get(), created_by=carlos
    )


@pytest.fixture
def active(placement):
    """Alice's placement, started (written straight to the row: the gate is tested on its own)."""
    from externships.models import Placement

    Placement.objects.filter(pk=placement.pk).update(state=Placement.State.ACTIVE)
    placement.refresh_from_db()
    return placement
