from django.urls import URLPattern, path

from externships.views import hours

urlpatterns: list[URLPattern] = [
    path("placements/<int:pk>/hours/new/", hours.shift_log, name="shift-log"),
    path("placements/<int:pk>/weeks/<date:monday>/approve/", hours.week_approve, name="week-approve"),
    path("hours/<int:pk>/edit/", hours.shift_edit, name="shift-edit"),
    path("hours/<int:pk>/delete/", hours.shift_delete, name="shift-delete"),
    path("hours/<int:pk>/approve/", hours.shift_approve, name="shift-approve"),
    path("hours/<int:pk>/return/", hours.shift_return, name="shift-return"),
]
