from django.urls import path

from curriculum import views

app_name = "curriculum"
urlpatterns = [
    path("programs/", views.program_list, name="program-list"),
    path("programs/new/", views.program_create, name="program-create"),
    path("programs/<str:code>/", views.program_detail, name="program-detail"),
    path("programs/<str:code>/edit/", views.program_edit, name="program-edit"),
    path("programs/<str:code>/staff/add/", views.staff_add, name="staff-add"),
    path("programs/<str:code>/staff/<int:pk>/remove/", views.staff_remove, name="staff-remove"),
    path("programs/<str:code>/cohorts/new/", views.cohort_create, name="cohort-create"),
    path("programs/<str:code>/courses/new/", views.course_create, name="course-create"),
    path("programs/<str:code>/roster/import/", views.roster_import, name="roster-import"),
    path("roster-imports/<int:pk>/", views.roster_import_detail, name="roster-import-detail"),
    path("roster-imports/<int:pk>/apply/", views.roster_import_apply, name="roster-import-apply"),
    path("cohorts/<int:pk>/", views.cohort_detail, name="cohort-detail"),
    path("cohorts/<int:pk>/edit/", views.cohort_edit, name="cohort-edit"),
    path("cohorts/<int:pk>/offerings/new/", views.offering_create, name="offering-create"),
    path("courses/<int:pk>/edit/", views.course_edit, name="course-edit"),
    path("offerings/<int:pk>/", views.offering_detail, name="offering-detail"),
    path("offerings/<int:pk>/edit/", views.offering_edit, name="offering-edit"),
    path("offerings/<int:pk>/gradebook/", views.gradebook, name="gradebook"),
    path("offerings/<int:pk>/assignments/new/", views.assignment_create, name="assignment-create"),
    path("assignments/<int:pk>/edit/", views.assignment_edit, name="assignment-edit"),
    path("assignments/<int:pk>/grades/<int:enrollment_pk>/", views.grade_cell, name="grade-cell"),
]
