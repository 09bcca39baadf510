"""Certification and outcome pages, one module per part, each matching a module of views/."""

from certifications.urls import exams, imports, reports, tracks

app_name = "certifications"
urlpatterns = [
    *tracks.urlpatterns,
    *exams.urlpatterns,
    *imports.urlpatterns,
    *reports.urlpatterns,
]
