from django.urls import path

from curriculum.models import RosterImport
from curriculum.views import (
    checkoffs,
    coursework,
    frameworks,
    grid,
    imports,
    records,
    reminders,
    roster_imports,
    setup_imports,
)

ROSTER, COHORTS, COURSES = RosterImport.Kind.ROSTER, RosterImport.Kind.COHORTS, RosterImport.Kind.COURSES

app_name = "curriculum"
urlpatterns = [
    path("programs/", coursework.program_list, name="program-list"),
    path("programs/new/", coursework.program_create, name="program-create"),
    path("programs/<code:code>/", coursework.program_detail, name="program-detail"),
    path("programs/<code:code>/edit/", coursework.program_edit, name="program-edit"),
    path("programs/<code:code>/reminders/", reminders.outbox, name="outbox"),
    path("programs/<code:code>/reminders/<int:pk>/resend/", reminders.outbox_resend, name="outbox-resend"),
    path("programs/<code:code>/reminders/timings/", reminders.reminder_timings, name="reminder-timings"),
    path("programs/<code:code>/staff/add/", coursework.staff_add, name="staff-add"),
    path("programs/<code:code>/staff/<int:pk>/remove/", coursework.staff_remove, name="staff-remove"),
    path("programs/<code:code>/cohorts/new/", coursework.cohort_create, name="cohort-create"),
    path("programs/<code:code>/courses/new/", coursework.course_create, name="course-create"),
    # --- Imports: the roster, and setting a program up from files (views/imports.py)
    path("programs/<code:code>/roster/import/", imports.upload, {"kind": ROSTER}, name="roster-import"),
    path(
        "programs/<code:code>/roster/import/example.csv",
        imports.example,
        {"kind": ROSTER},
        name="roster-import-example",
    ),
    path("roster-imports/<int:pk>/", imports.detail, {"find": roster_imports.find_upload}, name="roster-import-detail"),
    path(
        "roster-imports/<int:pk>/apply/",
        imports.apply,
        {"find": roster_imports.find_upload},
        name="roster-import-apply",
    ),
    path(
        "roster-imports/<int:pk>/progress/",
        imports.progress,
        {"find": roster_imports.find_upload},
        name="roster-import-progress",
    ),
    path("roster-imports/<int:pk>/intakes/", roster_imports.roster_import_intakes, name="roster-import-intakes"),
    path("programs/<code:code>/roster/invite/", coursework.program_invite_students, name="program-invite-students"),
    path("programs/<code:code>/cohorts/import/", imports.upload, {"kind": COHORTS}, name="cohort-import"),
    path(
        "programs/<code:code>/cohorts/import/example.csv",
        imports.example,
        {"kind": COHORTS},
        name="cohort-import-example",
    ),
    path("programs/<code:code>/courses/import/", imports.upload, {"kind": COURSES}, name="course-import"),
    path(
        "programs/<code:code>/courses/import/example.csv",
        imports.example,
        {"kind": COURSES},
        name="course-import-example",
    ),
    path("setup-imports/<int:pk>/", imports.detail, {"find": setup_imports.find_upload}, name="setup-import-detail"),
    path(
        "setup-imports/<int:pk>/apply/", imports.apply, {"find": setup_imports.find_upload}, name="setup-import-apply"
    ),
    path(
        "setup-imports/<int:pk>/progress/",
        imports.progress,
        {"find": setup_imports.find_upload},
        name="setup-import-progress",
    ),
    path("cohorts/<int:pk>/", coursework.cohort_detail, name="cohort-detail"),
    path("cohorts/<int:pk>/edit/", coursework.cohort_edit, name="cohort-edit"),
    path("cohorts/<int:pk>/offerings/new/", coursework.offering_create, name="offering-create"),
    path("enrollments/<int:pk>/edit/", coursework.enrollment_edit, name="enrollment-edit"),
    path("enrollments/<int:pk>/invite/", coursework.enrollment_invite, name="enrollment-invite"),
    path("courses/<int:pk>/edit/", coursework.course_edit, name="course-edit"),
    path("offerings/<int:pk>/", coursework.offering_detail, name="offering-detail"),
    path("offerings/<int:pk>/edit/", coursework.offering_edit, name="offering-edit"),
    path("offerings/<int:pk>/gradebook/", coursework.gradebook, name="gradebook"),
    path("offerings/<int:pk>/assignments/new/", coursework.assignment_create, name="assignment-create"),
    path("assignments/<int:pk>/edit/", coursework.assignment_edit, name="assignment-edit"),
    path("assignments/<int:pk>/grades/<int:enrollment_pk>/", coursework.grade_cell, name="grade-cell"),
    # --- Check-offs: performing, signing, revoking (views/checkoffs.py)
    path("cohorts/<int:pk>/checkoff/", checkoffs.checkoff_pick, name="checkoff-pick"),
    path(
        "enrollments/<int:pk>/competencies/<int:competency_pk>/checkoff/",
        checkoffs.checkoff_new,
        name="checkoff-new",
    ),
    path("attempts/<int:pk>/", checkoffs.attempt_detail, name="attempt-detail"),
    path("attempts/<int:pk>/sign/", checkoffs.attempt_sign, name="attempt-sign"),
    path("attempts/<int:pk>/discard/", checkoffs.attempt_discard, name="attempt-discard"),
    path("attempts/<int:pk>/revoke/", checkoffs.attempt_revoke, name="attempt-revoke"),
    # --- Competency progress: cohort grid, student progress (views/grid.py)
    path("cohorts/<int:pk>/competencies/", grid.competency_grid, name="competency-grid"),
    path("programs/<code:code>/competencies/", grid.program_competencies, name="program-competencies"),
    path("my/competencies/", grid.my_competencies, name="my-competencies"),
    path("enrollments/<int:pk>/competencies/", grid.student_competencies, name="student-competencies"),
    path(
        "enrollments/<int:pk>/competencies/<int:competency_pk>/",
        grid.competency_attempts,
        name="competency-attempts",
    ),
    # --- The student's record: master checklist PDF, access log (views/records.py)
    path(
        "enrollments/<int:pk>/competencies/checklist.pdf",
        records.master_checklist_pdf,
        name="master-checklist-pdf",
    ),
    # --- Frameworks, checklists, course mapping (views/frameworks.py)
    path("programs/<code:code>/framework/", frameworks.framework, name="framework"),
    path(
        "programs/<code:code>/framework/load-checklists/",
        frameworks.framework_load_checklists,
        name="framework-load-checklists",
    ),
    path("programs/<code:code>/framework/competencies/new/", frameworks.competency_create, name="competency-create"),
    path("programs/<code:code>/framework/competencies/<int:pk>/", frameworks.competency_edit, name="competency-edit"),
    path(
        "programs/<code:code>/framework/competencies/<int:pk>/courses/",
        frameworks.competency_courses,
        name="competency-courses",
    ),
    path(
        "programs/<code:code>/framework/competencies/<int:pk>/checklist/",
        frameworks.checklist_edit,
        name="checklist-edit",
    ),
    path(
        "programs/<code:code>/framework/competencies/<int:pk>/checklist/<int:step_pk>/",
        frameworks.checklist_step_edit,
        name="checklist-step-edit",
    ),
    path(
        "programs/<code:code>/framework/competencies/<int:pk>/checklist/<int:step_pk>/move/",
        frameworks.checklist_step_move,
        name="checklist-step-move",
    ),
    path(
        "programs/<code:code>/framework/competencies/<int:pk>/checklist/<int:step_pk>/delete/",
        frameworks.checklist_step_delete,
        name="checklist-step-delete",
    ),
]
