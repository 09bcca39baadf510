"""What a program starts with: the five certification tracks, and the accreditors' outcome measures.

Read from `reference/`. Each value's trailing comment (`src: …; conf: …`) is kept beside it, since a
YAML loader drops comments. Loading adds only what is missing: tracks matched by code within the
program, measures by accreditor and key. What a director or an admin edited is never overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parent / "reference"
CONFIDENCE_RANK = {"verified": 0, "secondary": 1, "recalled": 2}

# A key of the reference file, as it appears on its line → the track's field.
TRACK_FIELDS = {
    "name": "name",
    "awarding_body": "awarding_body",
    "focus": "focus",
    "scored_items": "scored_items",
    "pretest_items": "pretest_items",
    "total_items": "total_items",
    "minutes": "exam_minutes",
    "passing_scaled_score": "passing_score",
    "scale": "score_scale",
    "eligibility_routes": "eligibility_routes",
    "wait_days_after_fail": "retake_wait_days",
    "max_attempts": "max_attempts",
    "wait_after_third_fail_days": "wait_after_max_attempts_days",
    "cycle_months": "recertification_months",
    "ce_required": "ce_required",
    "ce_breakdown": "ce_breakdown",
    "annual_fee_required": "annual_fee_required",
    "alternative": "recertification_alternative",
    "lapse_rule": "lapse_rule",
    "completion_window_days": "completion_window_days",
    "graduate_window_months": "graduate_window_months",
    "requires_practicum": "requires_practicum",
    "requires_all_competencies": "requires_all_competencies",
    "counts_for_maerb": "counts_for_maerb",
    "counts_for_abhes": "counts_for_abhes",
}
KEY_LINE = re.compile(r"^\s*(?:-\s*)?(?:\{\s*)?([a-z_]+):")
CODE_LINE = re.compile(r"^\s*-\s*code:\s*(\w+)|^  ([A-Z]+):\s*$")


@dataclass(frozen=True)
class Origin:
    source: str
    confidence: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "confidence": self.confidence}


def parse_comment(comment: str) -> Origin | None:
    """`src: aama-ntl.org; conf: verified` → Origin. A comment without `conf:` says nothing sure."""
    confidence = re.search(r"conf:\s*([a-z_]+)", comment)
    if not confidence:
        return None
    source = re.search(r"src:\s*([^;]+)", comment)
    text = source.group(1).strip() if source else re.sub(r";?\s*conf:.*", "", comment).strip()
    return Origin(source=text[:300], confidence=confidence.group(1))


def weaker(first: Origin | None, second: Origin | None) -> Origin | None:
    if first is None or second is None:
        return first or second
    return first if CONFIDENCE_RANK.get(first.confidence, 3) >= CONFIDENCE_RANK.get(second.confidence, 3) else second


@dataclass
class TrackRow:
    code: str
    values: dict[str, Any]
    provenance: dict[str, Origin]
    domains: list[dict[str, Any]] = field(default_factory=list)


def _comments_by_track(text: str) -> tuple[dict[str, dict[str, Origin]], dict[str, dict[str, Origin]]]:
    """For each track: the origin of each key's value, and of each content-outline domain by name."""
    by_key: dict[str, dict[str, Origin]] = {}
    by_domain: dict[str, dict[str, Origin]] = {}
    code = ""
    outline: Origin | None = None
    list_key = ""
    last_source = ""
    for line in text.splitlines():
        if match := CODE_LINE.match(line):
            code = match.group(1) or match.group(2)
            by_key.setdefault(code, {})
            by_domain.setdefault(code, {})
            outline, list_key = None, ""
        if not code:
            continue
        body, _hash, comment = line.partition("#")
        origin = parse_comment(comment) if comment else None
        if origin and origin.source.startswith("same"):
            origin = Origin(last_source, origin.confidence)  # "src: same" points to the line above
        elif origin and origin.source:
            last_source = origin.source
        domain = re.search(r'domain:\s*"([^"]+)"', body)
        if domain:
            by_domain[code][domain.group(1)] = origin or outline or Origin("", "")
            continue
        if body.strip().startswith("- ") and list_key:
            by_key[code][list_key] = weaker(by_key[code].get(list_key), origin) or Origin("", "")
            continue
        key = KEY_LINE.match(body)
        if not key:
            continue
        name = key.group(1)
        if name == "content_outline":
            outline = origin
        elif name in TRACK_FIELDS and origin:
            by_key[code][name] = origin
        list_key = name if body.rstrip().endswith(":") and name in TRACK_FIELDS else ""
    return by_key, by_domain


def track_rows(
    tracks_path: Path = REFERENCE / "certification_tracks.yaml", rules_path: Path = REFERENCE / "track_rules.yaml"
) -> list[TrackRow]:
    """The five tracks as field values for CertificationTrack, with each value's origin."""
    tracks_text = tracks_path.read_text(encoding="utf-8")
    rules_text = rules_path.read_text(encoding="utf-8")
    comments, domain_comments = _comments_by_track(tracks_text)
    rule_comments, _unused = _comments_by_track(rules_text)
    rules = yaml.safe_load(rules_text)["tracks"]
    rows = []
    for entry in yaml.safe_load(tracks_text)["tracks"]:
        code = entry["code"]
        exam, retake, recert = (
            entry.get("exam") or {},
            entry.get("retake_policy") or {},
            entry.get("recertification") or {},
        )
        flat = {**{k: v for k, v in entry.items() if not isinstance(v, dict | list) or k == "eligibility_routes"}}
        flat.update(exam)
        flat.update(retake)
        flat.update(recert)
        rule = rules.get(code, {})
        flat.update({k: v for k, v in rule.items() if k != "domain_tags"})
        values: dict[str, Any] = {}
        for key, field_name in TRACK_FIELDS.items():
            if key not in flat:
                continue
            value = flat[key]
            if field_name in ("score_scale", "recertification_alternative", "lapse_rule", "name", "awarding_body"):
                value = value or ""
            values[field_name] = value
        values["eligibility_routes"] = list(entry.get("eligibility_routes") or [])
        provenance = {TRACK_FIELDS[key]: origin for key, origin in comments.get(code, {}).items()}
        provenance.update({TRACK_FIELDS[key]: origin for key, origin in rule_comments.get(code, {}).items()})
        domains = []
        tags = (rule.get("domain_tags") or {}) if isinstance(rule, dict) else {}
        for position, domain in enumerate(entry.get("content_outline") or [], start=1):
            origin = domain_comments.get(code, {}).get(domain["domain"]) or Origin("", "")
            weight = domain.get("weight_percent")
            domains.append(
                {
                    "name": domain["domain"],
                    "weight_percent": Decimal(str(weight)) if weight is not None else None,
                    "items": domain.get("items"),
                    "tags": list(tags.get(domain["domain"], [])),
                    "order": position,
                    "source": origin.source,
                    "confidence": origin.confidence,
                }
            )
        rows.append(TrackRow(code=code, values=values, provenance=provenance, domains=domains))
    return rows


# Which graduate statuses count as placed, and which leave the denominator, per placement measure.
PLACEMENT_RULES = {
    # MAERB: positive placement is employment as an MA or in a related field; the reference adds
    # continuing education and military service.
    ("maerb", "job_placement"): (["in_field", "related_field", "continuing_education", "military_service"], []),
    # ABHES: (F + R) / (G - U); U lists continuing education and military service among the reasons a
    # graduate is unavailable.
    ("abhes", "placement"): (
        ["in_field", "related_field"],
        ["unavailable", "continuing_education", "military_service"],
    ),
}


def measure_rows(path: Path = REFERENCE / "outcome_thresholds.yaml") -> list[dict[str, Any]]:
    """Every outcome measure as field values for OutcomeMeasure; its origin is its threshold's."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    threshold_origins: dict[tuple[str, str], Origin | None] = {}
    accreditor, key, last_source = "", "", ""
    for line in text.splitlines():
        if re.match(r"^(maerb|abhes):", line):
            accreditor = line.split(":", 1)[0]
        if match := re.match(r"^\s*-\s*key:\s*(\w+)", line):
            key = match.group(1)
        if (
            "#" in line
            and (origin := parse_comment(line.split("#", 1)[1]))
            and origin.source
            and not origin.source.startswith("same")
        ):
            last_source = origin.source
        if re.match(r"^\s*(threshold_percent|benchmark_percent):", line) and "#" in line:
            origin = parse_comment(line.split("#", 1)[1])
            if origin and origin.source.startswith("same"):
                origin = Origin(last_source, origin.confidence)
            threshold_origins[(accreditor, key)] = origin
    rows = []
    for accreditor in ("maerb", "abhes"):
        for position, measure in enumerate(data[accreditor]["measures"], start=1):
            threshold = measure.get("threshold_percent", measure.get("benchmark_percent"))
            placed, excluded = PLACEMENT_RULES.get((accreditor, measure["key"]), ([], []))
            origin = threshold_origins.get((accreditor, measure["key"])) or Origin("", "")
            rows.append(
                {
                    "accreditor": accreditor,
                    "key": measure["key"],
                    "formula": measure.get("formula", ""),
                    "cohort_basis": measure.get("cohort_basis", "")
                    or ("report year (July 1 to June 30)" if accreditor == "abhes" else ""),
                    "threshold_percent": Decimal(str(threshold)) if threshold is not None else None,
                    "min_return_rate_percent": (
                        Decimal(str(measure["min_return_rate_percent"]))
                        if measure.get("min_return_rate_percent") is not None
                        else None
                    ),
                    "placed_statuses": placed,
                    "excluded_statuses": excluded,
                    "terms": measure.get("terms") or {},
                    "source": origin.source,
                    "confidence": origin.confidence,
                    "order": position,
                }
            )
    return rows


def install_tracks(program: Any, *, track_model: Any = None, domain_model: Any = None) -> int:
    """Add the reference tracks the program lacks. Returns how many were added.

    Takes model classes so that a data migration can pass its historical models."""
    if track_model is None or domain_model is None:
        from certifications.models import CertificationTrack, ContentDomain

        track_model, domain_model = CertificationTrack, ContentDomain
    existing = set(track_model.objects.filter(program_id=program.pk).values_list("code", flat=True))
    # A historical model (an earlier migration) may lack a field added since: it is left to the
    # migration that adds it.
    fields = {model_field.name for model_field in track_model._meta.get_fields()}
    added = 0
    for position, row in enumerate(track_rows(), start=1):
        if row.code in existing:
            continue
        track = track_model.objects.create(
            program_id=program.pk,
            code=row.code,
            order=position,
            provenance={name: origin.as_dict() for name, origin in row.provenance.items() if name in fields},
            **{name: value for name, value in row.values.items() if name in fields},
        )
        domain_model.objects.bulk_create([domain_model(track=track, **domain) for domain in row.domains])
        added += 1
    return added


def install_measures(*, measure_model: Any = None) -> int:
    """Add the outcome measures not yet in the database. Returns how many were added."""
    if measure_model is None:
        from certifications.models import OutcomeMeasure

        measure_model = OutcomeMeasure
    existing = set(measure_model.objects.values_list("accreditor", "key"))
    new = [measure_model(**row) for row in measure_rows() if (row["accreditor"], row["key"]) not in existing]
    measure_model.objects.bulk_create(new)
    return len(new)
