"""What a new program starts with: compliance requirements and evaluation forms, from reference/.

Loading adds only what is missing: requirements matched by name, evaluation forms by kind (a
program with any item of a kind keeps its own form). What a director edited is never overwritten.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parent / "reference"


@dataclass(frozen=True)
class RequirementRow:
    name: str
    category: str
    validity_months: int | None
    is_required: bool
    notes: str
    source: str
    confidence: str


def requirement_rows(path: Path = REFERENCE / "compliance_requirements.csv") -> list[RequirementRow]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            RequirementRow(
                name=row["name"].strip(),
                category=row["category"].strip(),
                validity_months=int(row["typical_validity_months"]) if row["typical_validity_months"].strip() else None,
                is_required=row["default_required"].strip().lower() == "yes",
                notes=row["notes"].strip(),
                source=row["source"].strip(),
                confidence=row["confidence"].strip(),
            )
            for row in csv.DictReader(handle)
        ]


def evaluation_rows(path: Path = REFERENCE / "evaluation_items.yaml") -> dict[str, list[tuple[str, str]]]:
    """kind → [(section, text)], in order. The student form serves both midpoint and final."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def flatten(sections: dict[str, list[str]]) -> list[tuple[str, str]]:
        return [(section, text) for section, items in sections.items() for text in items]

    student = flatten(data["student"])
    return {"midpoint": student, "final": student, "site": flatten(data["site"])}


def install(program: Any, *, requirement_model: Any = None, item_model: Any = None) -> tuple[int, int]:
    """Add the reference requirements and evaluation items the program lacks. Returns (added, added).

    Takes model classes so that a data migration can pass its historical models."""
    if requirement_model is None or item_model is None:
        from externships.models import ComplianceRequirement, EvaluationItem

        requirement_model = requirement_model or ComplianceRequirement
        item_model = item_model or EvaluationItem
    existing = set(
        requirement_model.objects.filter(program_id=program.pk, site__isnull=True).values_list("name", flat=True)
    )
    requirements = [
        requirement_model(
            program_id=program.pk,
            name=row.name,
            category=row.category,
            validity_months=row.validity_months,
            is_required=row.is_required,
            notes=row.notes,
            source=row.source,
            confidence=row.confidence,
            order=position,
        )
        for position, row in enumerate(requirement_rows(), start=1)
        if row.name not in existing
    ]
    requirement_model.objects.bulk_create(requirements)
    items = []
    for kind, rows in evaluation_rows().items():
        if item_model.objects.filter(program_id=program.pk, kind=kind).exists():
            continue  # the program has its own form for this kind
        items += [
            item_model(program_id=program.pk, kind=kind, section=section, text=text, order=position)
            for position, (section, text) in enumerate(rows, start=1)
        ]
    item_model.objects.bulk_create(items)
    return len(requirements), len(items)
