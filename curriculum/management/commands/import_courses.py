from __future__ import annotations

from collections.abc import Callable

from curriculum import services, setup_imports
from curriculum.management.commands import import_cohorts


class Command(import_cohorts.Command):
    help = (
        "Create and update a program's courses, and its trigger course, from a file (CSV or XLSX). "
        "With any bad row nothing is written."
    )
    records = "courses"

    def planner(self) -> Callable[..., setup_imports.SetupPlan]:
        return setup_imports.plan_courses

    def writer(self) -> Callable[..., setup_imports.SetupPlan]:
        return services.apply_courses
