from externships.models.compliance import Category, ComplianceRecord, ComplianceRequirement
from externships.models.evaluations import PRECEPTOR_KINDS, Evaluation, EvaluationAnswer, EvaluationItem, Kind, Rating
from externships.models.placements import MAX_SHIFT, HoursEntry, Placement
from externships.models.sites import Preceptor, Site

__all__ = [
    "MAX_SHIFT",
    "PRECEPTOR_KINDS",
    "Category",
    "ComplianceRecord",
    "ComplianceRequirement",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationItem",
    "HoursEntry",
    "Kind",
    "Placement",
    "Preceptor",
    "Rating",
    "Site",
]
