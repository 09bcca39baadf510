"""Curriculum use cases: programs and their staff, coursework and grades, roster imports."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, UNUSABLE_PASSWORD_SUFFIX_LENGTH
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import services as account_services
from accounts.models import Invitation, User
from config import bulk
from curriculum import roster, spreadsheets
from curriculum.models import (
    Assignment,
    Cohort,
    CourseOffering,
    Enrollment,
    Grade,
    Program,
    RosterImport,
    StaffRole,
)

WRITE_BATCH = 2000


@transaction.atomic
def create_program(*, program: Program, director: User) -> Program:
    """Save a new program; whoever creates it directs it."""
    program.save()
    StaffRole.objects.create(program=program, user=director, role=StaffRole.Role.DIRECTOR)
    return program


@transaction.atomic
def add_staff_member(
    *, program: Program, email: str, first_name: str, last_name: str, role: str, added_by: User
) -> StaffRole:
    """Give someone a role in the program; a person new to Checkoff gets an invitation."""
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, first_name=first_name, last_name=last_name)
        account_services.invite_users(users=[user], invited_by=added_by)
    staff_role, created = StaffRole.objects.get_or_create(program=program, user=user, role=role)
    if not created:
        raise ValidationError({"email": _("%(email)s already has this role in the program.") % {"email": email}})
    return staff_role


@transaction.atomic
def remove_staff_member(*, staff_role: StaffRole, removed_by: User) -> None:
    """Take a role away. A program always keeps at least one director."""
    if staff_role.role == StaffRole.Role.DIRECTOR:
        directors = StaffRole.objects.select_for_update().filter(
            program=staff_role.program, role=StaffRole.Role.DIRECTOR
        )
        if len(directors) <= 1:
            raise ValidationError(_("A program needs at least one director."))
    staff_role.delete()


def check_offering(*, offering: CourseOffering) -> None:
    """An offering's course and cohort belong to one program, and its dates sit inside the cohort's."""
    if offering.course.program_id != offering.cohort.program_id:
        raise ValidationError({"course": _("The course belongs to another program than the cohort.")})
    cohort = offering.cohort
    if offering.starts_on and offering.starts_on < cohort.start_on:
        raise ValidationError(
            {"starts_on": _("The offering starts before the cohort does (%(date)s).") % {"date": cohort.start_on}}
        )
    if offering.ends_on and offering.ends_on > cohort.expected_graduation_on:
        raise ValidationError(
            {
                "ends_on": _("The offering ends after the cohort's expected graduation (%(date)s).")
                % {"date": cohort.expected_graduation_on}
            }
        )


@transaction.atomic
def save_offering(*, offering: CourseOffering) -> CourseOffering:
    """Create or change an offering; its instructor joins the cohort's instructors."""
    check_offering(offering=offering)
    offering.save()
    if offering.instructor_id:
        offering.cohort.instructors.add(offering.instructor_id)
    return offering


@transaction.atomic
def grade_assignment(
    *, assignment: Assignment, enrollment: Enrollment, points_earned: Decimal | None, grader: User, comment: str = ""
) -> Grade | None:
    """Record or change a student's points; empty points remove the grade."""
    if enrollment.cohort_id != assignment.offering.cohort_id:
        raise ValidationError(_("The student is not in this course's cohort."))
    if points_earned is None:
        Grade.objects.filter(assignment=assignment, enrollment=enrollment).delete()
        return None
    if points_earned < 0:
        raise ValidationError({"points_earned": _("Points cannot be negative.")})
    if points_earned > assignment.points:
        raise ValidationError(
            {
                "points_earned": _("At most %(points)s points for this assignment.")
                % {"points": format(assignment.points.normalize(), "f")}
            }
        )
    grade, _created = Grade.objects.update_or_create(
        assignment=assignment,
        enrollment=enrollment,
        defaults={"points_earned": points_earned, "graded_by": grader, "graded_at": timezone.now(), "comment": comment},
    )
    return grade


# --- Roster import ------------------------------------------------------------------------


@transaction.atomic
def preview_roster(
    *, program: Program, uploaded_by: User, file_name: str, content: bytes, create_cohorts: bool = False
) -> tuple[RosterImport, roster.RosterPlan]:
    """Read the uploaded file once and keep it with its rows and plan: nothing about students is written yet."""
    rows = list(spreadsheets.read_rows(content, file_name, roster.ROSTER_FORMAT))
    plan = roster.plan_roster_rows(program=program, rows=rows, create_cohorts=create_cohorts)
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS)
    # Previews nobody applied in time are never applied; their rows only take space.
    RosterImport.objects.filter(program=program, plan__isnull=False, created_at__lt=cutoff).update(rows=None, plan=None)
    upload = RosterImport.objects.create(
        program=program,
        uploaded_by=uploaded_by,
        file_name=file_name,
        content=content,
        summary=plan.summary,
        rows=[row.as_json() for row in rows],
        plan=plan.as_json(),
        create_cohorts=create_cohorts,
        new_cohorts=plan.new_cohorts_as_json(),
    )
    return upload, plan


@transaction.atomic
def apply_roster(
    *,
    program: Program,
    content: bytes,
    file_name: str,
    imported_by: User | None,
    skip_bad_rows: bool = False,
    create_cohorts: bool = False,
    invite: bool = False,
) -> roster.RosterPlan:
    """Write a roster file's changes; with any bad row nothing is written unless told to skip them."""
    plan = roster.plan_roster(program=program, content=content, file_name=file_name, create_cohorts=create_cohorts)
    _write_plan(plan, program, imported_by, skip_bad_rows, invite)
    return plan


def _write_plan(
    plan: roster.RosterPlan, program: Program, imported_by: User | None, skip_bad_rows: bool, invite: bool
) -> None:
    if plan.errors and not skip_bad_rows:
        raise ValidationError([str(error) for error in plan.errors])
    _create_new_cohorts(plan, program)
    rows = [row for row in plan.rows if row.action in ("create", "enroll", "update")]
    for start in range(0, len(rows), WRITE_BATCH):
        _write_batch(rows[start : start + WRITE_BATCH])
    if invite:
        _lock_invitations_of(program)
        # Unchanged rows too: a file imported once without invitations invites when imported again with them.
        current = [row.user for row in plan.rows if row.action != "error" and row.is_current and row.user]
        for start in range(0, len(current), WRITE_BATCH):
            _invite_not_yet_invited(current[start : start + WRITE_BATCH], imported_by)


# The code of the refusal when another import created one of the file's new intakes meanwhile.
INTAKE_CREATED_MEANWHILE = "intake_created_meanwhile"


def _create_new_cohorts(plan: roster.RosterPlan, program: Program) -> None:
    """The intakes the plan would create, only those a row still to be written names.

    Two imports naming the same missing intake may both plan it. The program is locked first, as the
    import page and the cohorts import lock it: the page, planning under that lock, then finds any
    intake created meanwhile and shows a new preview, and no import waits on another while holding
    what that one waits for. An import that planned before the other committed finds the code taken.
    That is refused with a ValidationError, not an IntegrityError: the insert runs in a savepoint, so
    the transaction stays usable to name the intakes, and the caller rolls everything back.
    Importing the file again matches its rows with the intake that now exists."""
    wanted = {id(row.new_cohort) for row in plan.rows if row.new_cohort and row.action != "error"}
    created = {
        id(new): Cohort(
            program=program,
            code=new.code,
            name=new.name,
            start_on=new.start_on,
            expected_graduation_on=new.expected_graduation_on,
        )
        for new in plan.new_cohorts
        if id(new) in wanted
    }
    if not created:
        return
    list(Program.objects.select_for_update().filter(pk=program.pk).values_list("pk", flat=True))
    try:
        with transaction.atomic():
            Cohort.objects.bulk_create(list(created.values()))
    except IntegrityError as error:
        codes = [cohort.code for cohort in created.values()]
        taken = set(Cohort.objects.filter(program=program, code__in=codes).values_list("code", flat=True))
        clashing = [cohort for cohort in created.values() if cohort.code in taken]
        if not clashing:
            raise
        intakes = ", ".join(f"“{cohort.name}” ({cohort.code})" for cohort in clashing)
        raise ValidationError(
            ngettext(
                "another import created intake %(intakes)s while this one ran. "
                "Import the file again and its rows will be matched with it.",
                "another import created intakes %(intakes)s while this one ran. "
                "Import the file again and its rows will be matched with them.",
                len(clashing),
            )
            % {"intakes": intakes},
            code=INTAKE_CREATED_MEANWHILE,
        ) from error
    for row in plan.rows:
        if row.new_cohort and id(row.new_cohort) in created:
            row.cohort = created[id(row.new_cohort)]


def _lock_invitations_of(program: Program) -> None:
    """Whoever invites a program's students waits for anyone else doing so to commit: each then asks
    who is not yet invited after the other's invitations exist, so two clicks invite nobody twice."""
    list(Program.objects.select_for_update().filter(pk=program.pk).values_list("pk", flat=True))


def not_yet_invited(users: QuerySet[User]) -> QuerySet[User]:
    """People with no way in yet: never invited (an invitation, pending, sent, expired or accepted,
    counts, so nobody is invited twice), never signed in, and without a password of their own."""
    return users.filter(last_login__isnull=True, password__startswith=UNUSABLE_PASSWORD_PREFIX).exclude(
        Exists(Invitation.objects.filter(user=OuterRef("pk")))
    )


def _invite_not_yet_invited(users: list[User], invited_by: User | None) -> None:
    """One query to learn who was invited already, then the invitations of the others."""
    ids = {user.pk for user in users}
    uninvited = set(not_yet_invited(User.objects.filter(pk__in=ids)).values_list("pk", flat=True))
    account_services.invite_users(users=[user for user in users if user.pk in uninvited], invited_by=invited_by)


def current_students_not_yet_invited(program: Program) -> QuerySet[User]:
    """The program's students neither withdrawn nor graduated who have had no invitation."""
    current = Enrollment.objects.filter(
        student=OuterRef("pk"), cohort__program=program, withdrawn_on__isnull=True, graduated_on__isnull=True
    )
    return not_yet_invited(User.objects.filter(Exists(current)))


@transaction.atomic
def invite_current_students(*, program: Program, invited_by: User) -> int:
    """Invite every current student of the program not invited yet; returns how many were invited."""
    _lock_invitations_of(program)
    users = list(current_students_not_yet_invited(program))
    account_services.invite_users(users=users, invited_by=invited_by)
    return len(users)


def _unusable_password() -> str:
    """What set_unusable_password() stores, at a fraction of its cost for thousands of people.

    Its suffix takes 40 draws from the random generator; one call for 40 random hex digits gives the
    same shape: the prefix makes has_usable_password() false, the suffix differs for everyone."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(UNUSABLE_PASSWORD_SUFFIX_LENGTH // 2)


def _write_batch(rows: list[roster.PlannedRow]) -> None:
    """A fixed number of statements per batch, whatever its size."""
    new_users = [
        User(
            email=row.email,
            password=_unusable_password(),
            first_name=row.values["first_name"],
            last_name=row.values["last_name"],
            preferred_language=row.values["preferred_language"],
        )
        for row in rows
        if row.action == "create"
    ]
    now = timezone.now()
    bulk.insert_from_arrays(new_users, now)
    created_by_email = {user.email: user for user in new_users}
    for row in rows:
        if row.action == "create":
            row.user = created_by_email[row.email]

    changed_users = []
    for row in rows:
        if (
            row.action in ("enroll", "update")
            and row.user
            and any(field in row.changes for field in roster.USER_FIELDS)
        ):
            for field in roster.USER_FIELDS:
                if field in row.changes:
                    setattr(row.user, field, row.changes[field][1])
            changed_users.append(row.user)
    bulk.update_from_values(changed_users, list(roster.USER_FIELDS))

    new_enrollments = []
    changed_enrollments = []
    for row in rows:
        enrollment_values = {field: row.values[field] for field in roster.ENROLLMENT_FIELDS}
        if row.action in ("create", "enroll"):
            student = created_by_email.get(row.email) or row.user
            new_enrollments.append(
                Enrollment(student_id=student.pk, cohort_id=row.cohort.pk, **enrollment_values)  # type: ignore[union-attr]
            )
        elif row.action == "update" and row.enrollment and any(f in row.changes for f in roster.ENROLLMENT_FIELDS):
            for field in roster.ENROLLMENT_FIELDS:
                if field in row.changes:
                    setattr(row.enrollment, field, row.changes[field][1])
            changed_enrollments.append(row.enrollment)
    bulk.insert_from_arrays(new_enrollments, now)
    bulk.update_from_values(changed_enrollments, list(roster.ENROLLMENT_FIELDS))


@transaction.atomic
def replan_roster_import(*, upload: RosterImport, create_cohorts: bool) -> roster.RosterPlan:
    """Plan a previewed upload again with or without creating the intakes it names that are missing."""
    upload = RosterImport.objects.select_for_update().select_related("program").defer("content").get(pk=upload.pk)
    if not upload.preview_is_current():
        raise ValidationError(
            _("This file was imported already.") if upload.applied_at else spreadsheets.preview_expired_message()
        )
    assert upload.rows is not None  # kept with every current preview
    plan = roster.plan_roster_rows(
        program=upload.program,
        rows=[spreadsheets.SheetRow.from_json(row) for row in upload.rows],
        create_cohorts=create_cohorts,
    )
    upload.create_cohorts = create_cohorts
    upload.plan, upload.summary, upload.new_cohorts = plan.as_json(), plan.summary, plan.new_cohorts_as_json()
    upload.save(update_fields=["create_cohorts", "plan", "summary", "new_cohorts"])
    return plan


def apply_roster_import(
    *, upload: RosterImport, skip_bad_rows: bool, applied_by: User, invite: bool = True
) -> roster.RosterPlan:
    """Apply a previewed upload once, exactly as previewed, or raise PreviewChanged with a new preview.

    The stored rows are planned again against the records as they are now; if that plan differs from
    the one previewed, nothing is written and the new plan is stored for the person to check."""
    with transaction.atomic():
        upload = RosterImport.objects.select_for_update().select_related("program").defer("content").get(pk=upload.pk)
        if upload.applied_at:
            raise ValidationError(_("This file was imported already."))
        if not upload.preview_is_current():
            raise ValidationError(spreadsheets.preview_expired_message())
        assert upload.rows is not None  # kept with every current preview
        plan = roster.plan_roster_rows(
            program=upload.program,
            rows=[spreadsheets.SheetRow.from_json(row) for row in upload.rows],
            create_cohorts=upload.create_cohorts,
        )
        planned, new_cohorts = plan.as_json(), plan.new_cohorts_as_json()
        if planned == upload.plan and new_cohorts == upload.new_cohorts:
            _write_plan(plan, upload.program, applied_by, skip_bad_rows, invite)
            upload.applied_at = timezone.now()
            upload.skip_bad_rows = skip_bad_rows
            upload.invited = invite
            upload.summary = plan.summary
            upload.rows = upload.plan = None  # applied: the summary says what happened
            upload.save(update_fields=["applied_at", "skip_bad_rows", "invited", "summary", "rows", "plan"])
            return plan
        # A changed intake (another cohort now holds its code, say) changes its rows' plan too.
        changed = max(spreadsheets.rows_changed(upload.plan, planned), 1)
        upload.plan, upload.summary, upload.new_cohorts = planned, plan.summary, new_cohorts
        upload.save(update_fields=["plan", "summary", "new_cohorts"])
    # Raised once the new preview is committed: the refusal must not undo it.
    raise spreadsheets.PreviewChanged(changed)
