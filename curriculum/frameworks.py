"""Load the reference competency frameworks and skill checklists that ship with Checkoff.

Loading is idempotent: a second run changes nothing. A row a director has confirmed or corrected
is theirs, and the loader never overwrites it; other rows follow the file, so a corrected seed
file reaches every installation that has not taken the row over.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from curriculum.models import (
    ChecklistStep,
    Competency,
    CompetencyChange,
    CompetencyFramework,
    Confidence,
    ContentArea,
    Program,
)

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
FRAMEWORK_FILES = {
    "MAERB-2022": ("MAERB Core Curriculum 2022", "2022", "maerb_core_curriculum_2022.csv"),
    "MAERB-2015": ("MAERB Core Curriculum 2015", "2015", "maerb_core_curriculum_2015.csv"),
}
SEEDED_FIELDS = ("content_area_id", "domain", "parent_id", "title", "order", "source", "confidence")


@dataclass
class LoadReport:
    framework: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # confirmed or corrected by a director: left alone

    def __str__(self) -> str:
        return (
            f"{self.framework}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.kept)} kept as a director confirmed them"
        )


def _tag_rules(framework_code: str) -> list[tuple[str, list[str]]]:
    with open(REFERENCE_DIR / "competency_tags.csv", newline="", encoding="utf-8") as tags_file:
        return [
            (row["code_prefix"], [tag.strip() for tag in row["tags"].split(";") if tag.strip()])
            for row in csv.DictReader(tags_file)
            if row["framework"] == framework_code
        ]


def tags_for(code: str, rules: list[tuple[str, list[str]]]) -> list[str]:
    """The tags of the most specific rule that matches: I.P.1 covers I.P.1.a but not I.P.10."""

    def matches(prefix: str) -> bool:
        if prefix.startswith("."):
            return prefix in code
        if prefix.endswith("."):
            return code.startswith(prefix)
        return code == prefix or code.startswith(prefix + ".")

    candidates = [(len(prefix), tags) for prefix, tags in rules if matches(prefix)]
    return max(candidates)[1] if candidates else []


@transaction.atomic
def load_framework(code: str) -> LoadReport:
    """Create or refresh one reference framework from its file under curriculum/reference/."""
    name, version, file_name = FRAMEWORK_FILES[code]
    framework, _created = CompetencyFramework.objects.get_or_create(
        code=code, defaults={"name": name, "version": version}
    )
    report = LoadReport(framework=code)
    with open(REFERENCE_DIR / file_name, newline="", encoding="utf-8") as rows_file:
        rows = [row for row in csv.DictReader(rows_file) if row["framework"] == code]
    areas: dict[str, ContentArea] = {}
    for row in rows:
        if row["content_area_code"] not in areas:
            area, _created = ContentArea.objects.get_or_create(
                framework=framework,
                code=row["content_area_code"],
                defaults={"title": row["content_area_title"], "order": len(areas) + 1},
            )
            areas[area.code] = area
    existing = {c.code: c for c in Competency.objects.filter(framework=framework, program__isnull=True)}
    # A director who corrected a row's code took the row over: the file's old code still means it,
    # so the loader neither recreates it under the old code nor loses the sub-items' heading.
    by_pk = {competency.pk: competency for competency in existing.values()}
    for competency_id, before in CompetencyChange.objects.filter(competency_id__in=list(by_pk)).values_list(
        "competency_id", "before"
    ):
        old_code = before.get("code") if isinstance(before, dict) else None
        if old_code and old_code not in existing:
            existing[old_code] = by_pk[competency_id]
    parents_with_children = {row["parent_code"] for row in rows if row["parent_code"]}
    rules = _tag_rules(code)
    for order, row in enumerate(rows, start=1):
        parent = existing.get(row["parent_code"]) if row["parent_code"] else None
        values: dict[str, Any] = {
            "content_area_id": areas[row["content_area_code"]].pk,
            "domain": row["domain"],
            "parent_id": parent.pk if parent else None,
            "title": row["title"].strip(),
            "order": order,
            "source": row["source"][:300],
            "confidence": row["confidence"],
        }
        competency = existing.get(row["code"])
        if competency is None:
            competency = Competency.objects.create(
                framework=framework,
                code=row["code"],
                tags=tags_for(row["code"], rules),
                # A heading whose lettered sub-items are signed off is not signed off itself.
                is_tracked=row["code"] not in parents_with_children,
                **values,
            )
            existing[competency.code] = competency
            report.created += 1
        elif competency.confirmed_by_id or competency.confidence == Confidence.CONFIRMED:
            report.kept.append(competency.code)
        elif any(getattr(competency, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(competency, name, value)
            competency.save(update_fields=[name.removesuffix("_id") for name in SEEDED_FIELDS])
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def load_reference_frameworks() -> list[LoadReport]:
    return [load_framework(code) for code in FRAMEWORK_FILES]


@transaction.atomic
def load_skill_checklists(*, program: Program) -> int:
    """Give a program the shipped checklists for common skills, where it has none of its own."""
    with open(REFERENCE_DIR / "skill_checklists.yaml", encoding="utf-8") as checklists_file:
        checklists = yaml.safe_load(checklists_file)
    framework = program.framework
    if framework is None:
        return 0
    competencies = {c.code: c for c in Competency.objects.filter(framework=framework, program__isnull=True)}
    has_steps = set(ChecklistStep.objects.filter(program=program).values_list("competency__code", flat=True).distinct())
    steps = []
    for checklist in checklists.get(framework.code, []):
        competency = competencies.get(checklist["competency"])
        if competency is None or competency.code in has_steps:
            continue
        for order, step in enumerate(checklist["steps"], start=1):
            text, critical = (step[:-11].rstrip(), True) if step.endswith("(critical)") else (step, False)
            steps.append(
                ChecklistStep(
                    program=program,
                    competency=competency,
                    order=order,
                    text=text,
                    points=2 if critical else 1,
                    is_critical=critical,
                )
            )
    ChecklistStep.objects.bulk_create(steps)
    return len(steps)
