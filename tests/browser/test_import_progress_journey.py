"""Importing a roster in the background, in Chromium: after Import the page says the file waits,
then shows the rows written in a labelled progress bar inside a polite live region, polling by
itself, and reloads to the result once the worker is done; the page also shows it all without
JavaScript's help on a plain reload.

The worker is held back (its queueing recorded instead of run) so the test can see each state, then
the task runs here, committing as a worker would: the live server answers from another thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from curriculum import imports, tasks
from curriculum.models import Enrollment, RosterImport, StaffRole
from tests import factories
from tests.browser.conftest import DESKTOP, screenshot
from tests.curriculum.test_roster import roster_csv, student_row

pytestmark = pytest.mark.browser


def test_a_director_sees_the_roster_import_progress_then_its_result(
    live_server: Any, sign_in: Callable[..., Page], monkeypatch: pytest.MonkeyPatch
) -> None:
    dana = factories.StaffFactory.create(role=StaffRole.Role.DIRECTOR, first_name="Dana").user
    cohort = factories.CohortFactory.create(program=dana.staff_roles.get().program)
    queued: list[tuple[str, int]] = []
    monkeypatch.setattr(imports, "_send", lambda kind, pk: queued.append((kind.name, pk)))

    page = sign_in(dana.email, DESKTOP)
    page.goto(f"/programs/{cohort.program.code}/roster/import/")
    content = roster_csv([student_row(cohort, number) for number in range(1, 5)])
    page.get_by_label("File").set_input_files(
        files=[{"name": "students.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_label("Email an invitation to the current students not invited yet").uncheck()
    page.get_by_role("button", name="Import", exact=True).click()

    status = page.get_by_role("status")
    expect(status).to_contain_text("Waiting for the import to start")
    expect(page.get_by_role("button", name="Import", exact=True)).to_have_count(0)
    assert len(queued) == 1 and not Enrollment.objects.exists()
    kind, pk = queued[0]

    # The worker starts and has written a first batch: the page shows it by itself.
    RosterImport.objects.filter(pk=pk).update(state=RosterImport.State.APPLYING)
    imports.report_progress(kind, pk, 2, 4)
    progressbar = status.get_by_role("progressbar", name="Importing: 2 of 4 rows written.")
    expect(progressbar).to_have_attribute("aria-valuenow", "2")
    expect(progressbar).to_have_attribute("max", "4")
    expect(status).to_have_attribute("aria-live", "polite")
    screenshot(page, "import-progress")

    page.reload()  # without the polling, a reload shows the same
    expect(status.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "2")

    tasks.apply_import(kind, pk)  # the worker finishes; the polling page reloads to the result

    expect(status).to_contain_text(
        "Roster imported: 4 new students, 0 people already in Checkoff enrolled, 0 updated, 0 unchanged, "
        "0 rows skipped."
    )
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.locator("[hx-trigger]")).to_have_count(0)
    assert Enrollment.objects.filter(cohort=cohort).count() == 4
    screenshot(page, "import-applied")
