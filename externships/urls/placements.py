from django.urls import URLPattern, path

from externships.views import placements

urlpatterns: list[URLPattern] = [
    path("programs/<code:code>/placements/", placements.placement_list, name="placement-list"),
    path("programs/<code:code>/placements/new/", placements.placement_create, name="placement-create"),
    path("placements/<int:pk>/", placements.placement_detail, name="placement-detail"),
    path("placements/<int:pk>/edit/", placements.placement_edit, name="placement-edit"),
    path("placements/<int:pk>/start/", placements.placement_activate, name="placement-activate"),
    path("placements/<int:pk>/complete/", placements.placement_complete, name="placement-complete"),
    path("placements/<int:pk>/withdraw/", placements.placement_withdraw, name="placement-withdraw"),
    path("cohorts/<int:pk>/readiness/", placements.cohort_readiness, name="cohort-readiness"),
    path("my/externship/", placements.my_externship, name="my-externship"),
]
