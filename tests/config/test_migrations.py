"""Migrations stand on their own: a fresh install migrates whatever the app's code has become since.

A data migration that called today's application code (a loader, a model's method) would run that
code against the historical schema of its moment, and break a fresh `migrate` as soon as either
changed. So the rows a migration inserts are frozen inside it, and these tests check that the frozen
rows are what the app's own reference loading gives, and that nothing in a migration's functions
imports the project's modules.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from certifications import defaults as certification_defaults
from certifications.models import CertificationTrack, OutcomeMeasure
from externships import defaults as externship_defaults
from tests import factories

ROOT = Path(__file__).resolve().parent.parent.parent
PROJECT_PACKAGES = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}
MIGRATIONS = sorted(path for path in ROOT.glob("*/migrations/[0-9]*.py"))


def _project_module(name: str | None) -> bool:
    return name is not None and name.split(".")[0] in PROJECT_PACKAGES


def project_code_used_by_functions(source: str) -> list[str]:
    """Imports of the project's modules inside a migration's functions (what RunPython runs), and uses
    there of a project module imported at the top. The top-level imports themselves are Django's own
    way to serialise a field's default, manager, storage or upload path, and stay: migrating from
    nothing (every test run does) fails at once if one of those names goes."""
    tree = ast.parse(source)
    imported_at_top = set()
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            imported_at_top |= {(a.asname or a.name).split(".")[0] for a in statement.names if _project_module(a.name)}
        elif isinstance(statement, ast.ImportFrom) and _project_module(statement.module):
            imported_at_top |= {alias.asname or alias.name for alias in statement.names}
    found = []
    for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)):
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                found += [f"{function.name} imports {a.name}" for a in node.names if _project_module(a.name)]
            elif isinstance(node, ast.ImportFrom) and (_project_module(node.module) or node.level):
                found.append(f"{function.name} imports from {node.module or '.'}")
            elif isinstance(node, ast.Call) and ast.unparse(node.func) in {"importlib.import_module", "__import__"}:
                found.append(f"{function.name} imports a module by name")
            elif isinstance(node, ast.Name) and node.id in imported_at_top:
                found.append(f"{function.name} uses {node.id}")
    return found


def test_the_check_finds_a_migration_function_that_calls_the_app():
    assert len(MIGRATIONS) > 20 and {"accounts", "curriculum", "certifications"} <= PROJECT_PACKAGES
    calling_the_app = """
import certifications.models
from django.db import migrations

def install(apps, schema_editor):
    from certifications import defaults
    certifications.models.new_feed_token()

def seal(apps, schema_editor):
    import importlib
    importlib.import_module("externships.defaults")
"""
    assert project_code_used_by_functions(calling_the_app) == [
        "install imports from certifications",
        "install uses certifications",
        "seal imports a module by name",
    ]


def test_no_migration_function_imports_or_calls_the_projects_code():
    found = [
        f"{path.relative_to(ROOT)}: {problem}"
        for path in MIGRATIONS
        for problem in project_code_used_by_functions(path.read_text())
    ]
    assert found == []


# --- The frozen rows are the reference's ---------------------------------------------------------


def model_rows(queryset: Any, exclude: set[str]) -> list[dict[str, Any]]:
    fields = [f.name for f in queryset.model._meta.concrete_fields if f.name not in exclude]
    return [{name: getattr(row, name) for name in fields} for row in queryset]


@pytest.mark.django_db
def test_a_fresh_migrate_holds_exactly_the_reference_outcome_measures():
    """The test database was migrated from nothing: its measures are what 0002 inserted."""
    measures = model_rows(
        OutcomeMeasure.objects.order_by("accreditor", "order"), {"id", "confirmed_at", "confirmed_by"}
    )
    expected = sorted(certification_defaults.measure_rows(), key=lambda row: (row["accreditor"], row["order"]))
    assert measures == expected


def test_the_frozen_tracks_are_the_reference_tracks():
    frozen = importlib.import_module("certifications.migrations.0002_reference_tracks_and_measures").TRACKS
    reference = certification_defaults.track_rows()
    assert [row["code"] for row in frozen] == [row.code for row in reference]
    for row, track in zip(frozen, reference, strict=True):
        # The one flag of 0001 held MAERB's choice; 0005 split it in two.
        values, provenance = dict(row["values"]), dict(row["provenance"])
        values["counts_for_maerb"] = values.pop("counts_for_outcomes")
        provenance["counts_for_maerb"] = provenance.pop("counts_for_outcomes")
        assert values == {name: value for name, value in track.values.items() if name != "counts_for_abhes"}
        assert provenance == {
            name: origin.as_dict() for name, origin in track.provenance.items() if name != "counts_for_abhes"
        }
        assert row["domains"] == track.domains


def test_the_frozen_requirements_and_evaluation_forms_are_the_reference_ones():
    migration = importlib.import_module("externships.migrations.0002_signed_and_approved_records_are_immutable")
    assert [dataclasses.asdict(row) for row in externship_defaults.requirement_rows()] == migration.REQUIREMENTS
    assert externship_defaults.evaluation_rows() == migration.EVALUATION_ITEMS


@pytest.mark.django_db(transaction=True)
def test_a_program_older_than_the_tracks_gets_the_tracks_a_new_program_gets():
    """Run 0002 and what follows it for a program made before it, and compare with the app's loading."""
    executor = MigrationExecutor(connection)
    leaves = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "certifications"]
    executor.migrate([("certifications", "0001_certifications")])
    try:
        historical = executor.loader.project_state(("certifications", "0001_certifications")).apps
        older = historical.get_model("curriculum", "Program").objects.create(
            code="OLD", name="Older program", accreditor="caahep"
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    newer = factories.ProgramFactory()  # its tracks come from the app (certifications/signals.py)

    exclude = {"id", "program", "confirmed_at", "confirmed_by"}
    migrated = model_rows(CertificationTrack.objects.filter(program_id=older.pk).order_by("order"), exclude)
    loaded = model_rows(CertificationTrack.objects.filter(program=newer).order_by("order"), exclude)
    assert len(migrated) == 5
    for track in migrated + loaded:
        # 0005 gave every track of its time ABHES's default and says where it came from; the reference
        # gives the same value with its own wording of the source.
        track["provenance"].pop("counts_for_abhes")
    assert migrated == loaded
    domains = ["name", "weight_percent", "items", "tags", "order", "source", "confidence"]
    for old_track, new_track in zip(
        CertificationTrack.objects.filter(program_id=older.pk).order_by("order"),
        CertificationTrack.objects.filter(program=newer).order_by("order"),
        strict=True,
    ):
        assert list(old_track.domains.order_by("order").values(*domains)) == list(
            new_track.domains.order_by("order").values(*domains)
        )
