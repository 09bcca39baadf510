"""Curriculum use cases: programs and their staff, coursework and grades, roster imports."""

from __future__ import annotations

import secrets
from collections.abc import Callable
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
from curriculum import imports, roster, spreadsheets
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
# The columns a roster import copies in, in the order `_write_batch` gives them.
USER_COLUMNS = (
    "id",
    "email",
    "password",
    "first_name",
    "last_name",
    "preferred_language",
    "is_superuser",
    "is_active",
    "is_staff",
    "date_joined",
)
ENROLLMENT_COLUMNS = ("student_id", "cohort_id", *roster.ENROLLMENT_FIELDS, "created_at")


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
        account_services.invite_users(users=[user], invited_by=added_by, program_id=program.pk)
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
    plan: roster.RosterPlan,
    program: Program,
    imported_by: User | None,
    skip_bad_rows: bool,
    invite: bool,
    progress: Callable[[int], None] | None = None,
) -> None:
    if plan.errors and not skip_bad_rows:
        raise ValidationError([str(error) for error in plan.errors])
    _create_new_cohorts(plan, program)
    rows = [row for row in plan.rows if row.action in ("create", "enroll", "update")]
    new_user_ids: dict[str, int] = {}
    for start in range(0, len(rows), WRITE_BATCH):
        new_user_ids.update(_write_batch(rows[start : start + WRITE_BATCH]))
        if progress:
            progress(min(start + WRITE_BATCH, len(rows)))
    if invite:
        _lock_invitations_of(program)
        # Unchanged rows too: a file imported once without invitations invites when imported again with them.
        current = [
            row.user.pk if row.user else new_user_ids[row.email]
            for row in plan.rows
            if row.action != "error" and row.is_current
        ]
        _invite_not_yet_invited(current, imported_by, program)


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


def _invite_not_yet_invited(user_ids: list[int], invited_by: User | None, program: Program) -> None:
    """One statement for the whole file: the database picks who of these is not yet invited, and
    invites them. Their ids travel as one array, and one statement reads the people once, where a
    statement per batch would scan them again for every batch."""
    account_services.invite(
        users=not_yet_invited(User.objects.filter(bulk.AnyOf("pk", user_ids))),
        invited_by=invited_by,
        program_id=program.pk,
    )


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
    account_services.invite_users(users=users, invited_by=invited_by, program_id=program.pk)
    return len(users)


def _unusable_passwords(count: int) -> list[str]:
    """What set_unusable_password() stores, for `count` people, at a fraction of its cost.

    Its suffix takes 40 draws from the random generator; here one draw from the system's secure
    source gives 40 random hex digits a person: the prefix makes has_usable_password() false, the
    suffix differs for everyone."""
    digits = UNUSABLE_PASSWORD_SUFFIX_LENGTH
    pool = secrets.token_hex(count * digits // 2)
    return [UNUSABLE_PASSWORD_PREFIX + pool[start : start + digits] for start in range(0, count * digits, digits)]


def _write_batch(rows: list[roster.PlannedRow]) -> dict[str, int]:
    """A fixed number of statements per batch, whatever its size; returns the new people's ids by email.

    New people and enrollments are copied in (config.bulk.copy_in) with the people's keys taken first,
    so no row comes back from the database and no model object is built for them."""
    now = timezone.now()
    created = [row for row in rows if row.action == "create"]
    new_user_ids = dict(zip((row.email for row in created), bulk.new_keys(User, len(created)), strict=True))
    if created:
        bulk.copy_in(
            User,
            USER_COLUMNS,
            (
                (
                    new_user_ids[row.email],
                    row.email,
                    password,
                    row.values["first_name"],
                    row.values["last_name"],
                    row.values["preferred_language"],
                    False,
                    True,
                    False,
                    now,
                )
                for row, password in zip(created, _unusable_passwords(len(created)), strict=True)
            ),
        )

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
        if row.action in ("create", "enroll"):
            assert row.cohort is not None  # a row to enroll has its cohort, found or just created
            values = row.values
            new_enrollments.append(
                (
                    new_user_ids[row.email] if row.user is None else row.user.pk,
                    row.cohort.pk,
                    *(values[field] for field in roster.ENROLLMENT_FIELDS),
                    now,
                )
            )
        elif row.action == "update" and row.enrollment and any(f in row.changes for f in roster.ENROLLMENT_FIELDS):
            for field in roster.ENROLLMENT_FIELDS:
                if field in row.changes:
                    setattr(row.enrollment, field, row.changes[field][1])
            changed_enrollments.append(row.enrollment)
    if new_enrollments:
        bulk.copy_in(Enrollment, ENROLLMENT_COLUMNS, new_enrollments)
    bulk.update_from_values(changed_enrollments, list(roster.ENROLLMENT_FIELDS))
    return new_user_ids


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
    *,
    upload: RosterImport,
    skip_bad_rows: bool,
    applied_by: User,
    invite: bool = True,
    progress: imports.Progress | None = None,
) -> roster.RosterPlan:
    """Apply a previewed upload once, exactly as previewed, or raise PreviewChanged with a new preview.

    The stored rows are planned again against the records as they are now; if that plan differs from
    the one previewed, nothing is written and the new plan is stored for the person to check. The
    upload's state commits with the records (imports.mark_applied, imports.mark_preview_changed);
    `progress` hears of each batch written, with the number of rows to write."""
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
            total = sum(1 for row in plan.rows if row.action in ("create", "enroll", "update"))
            if progress:
                progress(0, total)
            _write_plan(
                plan,
                upload.program,
                applied_by,
                skip_bad_rows,
                invite,
                progress=(lambda written: progress(written, total)) if progress else None,
            )
            upload.applied_at = timezone.now()
            upload.skip_bad_rows = skip_bad_rows
            upload.invited = invite
            upload.summary = plan.summary
            upload.rows = upload.plan = None  # applied: the summary says what happened
            marked = imports.mark_applied(upload)
            upload.save(update_fields=["applied_at", "skip_bad_rows", "invited", "summary", "rows", "plan", *marked])
            return plan
        # A changed intake (another cohort now holds its code, say) changes its rows' plan too.
        changed = max(spreadsheets.rows_changed(upload.plan, planned), 1)
        upload.plan, upload.summary, upload.new_cohorts = planned, plan.summary, new_cohorts
        marked = imports.mark_preview_changed(upload, changed)
        upload.save(update_fields=["plan", "summary", "new_cohorts", *marked])
    # Raised once the new preview is committed: the refusal must not undo it.
    raise spreadsheets.PreviewChanged(changed)
