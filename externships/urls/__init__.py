"""Externship pages, one module per part, each matching a module of views/."""

from externships.urls import compliance, evaluations, hours, placements, sites

app_name = "externships"
urlpatterns = [
    *sites.urlpatterns,
    *compliance.urlpatterns,
    *placements.urlpatterns,
    *hours.urlpatterns,
    *evaluations.urlpatterns,
]
