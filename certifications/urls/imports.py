from django.urls import URLPattern, path

from certifications.views import imports

urlpatterns: list[URLPattern] = [
    path("programs/<code:code>/certifications/import/exam-results/", imports.exam_import, name="exam-import"),
    path(
        "programs/<code:code>/certifications/import/exam-results/example.csv",
        imports.exam_import_example,
        name="exam-import-example",
    ),
    path(
        "programs/<code:code>/certifications/import/graduate-outcomes/",
        imports.outcomes_import,
        name="outcomes-import",
    ),
    path(
        "programs/<code:code>/certifications/import/graduate-outcomes/example.csv",
        imports.outcomes_import_example,
        name="outcomes-import-example",
    ),
    path("result-imports/<int:pk>/", imports.result_import_detail, name="result-import-detail"),
    path("result-imports/<int:pk>/apply/", imports.result_import_apply, name="result-import-apply"),
    path("result-imports/<int:pk>/progress/", imports.result_import_progress, name="result-import-progress"),
]
