"""Curriculum use cases: programs, coursework and rosters (coursework.py); check-offs (checkoffs.py);
the student's record leaving the system (records.py); setting a program up from files (setup_imports.py)."""

from curriculum.services.checkoffs import (
    discard_attempt,
    record_attempt,
    record_view,
    revoke_signature,
    sign_attempt,
)
from curriculum.services.coursework import (
    WRITE_BATCH,
    add_staff_member,
    apply_roster,
    apply_roster_import,
    check_offering,
    create_program,
    grade_assignment,
    preview_roster,
    remove_staff_member,
    save_offering,
)
from curriculum.services.frameworks import (
    add_checklist_step,
    check_code_free,
    check_framework_change,
    confirm_competency,
    create_competency,
    delete_checklist_step,
    map_competency_courses,
    move_checklist_step,
    update_checklist_step,
    update_program,
)
from curriculum.services.records import record_download
from curriculum.services.setup_imports import apply_cohorts, apply_courses, apply_setup_import, preview_setup_import

__all__ = [
    "WRITE_BATCH",
    "add_checklist_step",
    "add_staff_member",
    "apply_cohorts",
    "apply_courses",
    "apply_roster",
    "apply_roster_import",
    "apply_setup_import",
    "check_code_free",
    "check_framework_change",
    "check_offering",
    "confirm_competency",
    "create_competency",
    "create_program",
    "delete_checklist_step",
    "discard_attempt",
    "grade_assignment",
    "map_competency_courses",
    "move_checklist_step",
    "preview_roster",
    "preview_setup_import",
    "record_attempt",
    "record_download",
    "record_view",
    "remove_staff_member",
    "revoke_signature",
    "save_offering",
    "sign_attempt",
    "update_checklist_step",
    "update_program",
]
