from django.urls import URLPattern, path

from certifications.models import ResultImport
from certifications.views.imports import find_upload
from curriculum.views import imports

EXAM, OUTCOMES = ResultImport.Kind.EXAM_RESULTS, ResultImport.Kind.GRADUATE_OUTCOMES

# The shared import pages (curriculum/views/imports.py), for exam results and graduate outcomes.
urlpatterns: list[URLPattern] = [
    path(
        "programs/<code:code>/certifications/import/exam-results/", imports.upload, {"kind": EXAM}, name="exam-import"
    ),
    path(
        "programs/<code:code>/certifications/import/exam-results/example.csv",
        imports.example,
        {"kind": EXAM},
        name="exam-import-example",
    ),
    path(
        "programs/<code:code>/certifications/import/graduate-outcomes/",
        imports.upload,
        {"kind": OUTCOMES},
        name="outcomes-import",
    ),
    path(
        "programs/<code:code>/certifications/import/graduate-outcomes/example.csv",
        imports.example,
        {"kind": OUTCOMES},
        name="outcomes-import-example",
    ),
    path("result-imports/<int:pk>/", imports.detail, {"find": find_upload}, name="result-import-detail"),
    path("result-imports/<int:pk>/apply/", imports.apply, {"find": find_upload}, name="result-import-apply"),
    path("result-imports/<int:pk>/progress/", imports.progress, {"find": find_upload}, name="result-import-progress"),
]
