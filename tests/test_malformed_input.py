"""No input breaks a page, and a refused input writes nothing.

A walker over every URL pattern of the project (`get_resolver()`: ours, allauth's and the admin's),
made concrete with the records of a small program built here: for each `pk` the record named by the
segment before it (`cohorts/<pk>` a cohort), once one the people of the program may see and once
another program's. As each role, the least able first (signed out, student, preceptor, instructor,
coordinator, director), it GETs every address (the admin's signed out only: it lets in superusers
with two-factor alone, and shows everyone else the same sign-in page), and posts malformed variants
of every form it finds on the pages it can open (read from the HTML: inputs, selects, textareas,
submit buttons), each form once, by the first role to find it:

- per field, the others left as the page gave them (filled in where empty, so a create form is
  otherwise valid and the variant reaches the service): a NUL, 10,000 characters, emoji with
  right-to-left text; for numbers -1, 10**30 and text; for dates 2026-02-30 and 0000-00-00;
  for choices a value not offered and an id far beyond any row;
- per form: every field empty, every field missing, every field sent twice (a list where one value
  is expected), and a body of bytes that are not UTF-8;
- GET forms and the query parameters the page links to get the same values in the query string.

An address a role opens also gets HEAD, OPTIONS, PUT and DELETE (once, from the first role that
opens it), and a second test asks every address with a NUL, a 10,000-character value and a 40-digit
number in place of each of its parameters. Nothing may answer 5xx.

"No row written" is read from PostgreSQL's own counters: `pg_stat_xact_user_tables` holds, for the
current transaction, the rows each table had inserted, updated and deleted, including in savepoints
rolled back since. The test runs in one transaction, so the counters before and after a request
show exactly what that request tried to write: stricter than counting rows (an update changes no
count, and a write rolled back after a refusal still shows). A submission counts as refused when it
answers 4xx, when a bound form on the page it renders has errors, or when it leaves an error message;
then only the tables every request may write are allowed to move: `django_session` (the session is
saved whenever a view touches it) and `accounts_accesslog` with its chain heads `accounts_chainhead`
(staff opening a student's record is logged, on a refused post as on a GET). A submission that is
accepted may of course write; it runs in a savepoint rolled back after it, so that it changes
nothing for the next variant.

Uploads get a small ordinary file that is not what the form asks for; the hostile spreadsheets (zip
bombs, cells over 128 KiB, NUL bytes, invalid UTF-8) are the other half of this guard, in
tests/test_malformed_uploads.py. The walk costs about 2,900 requests, about 30 s on
two shared cores; PER_FIELD_REQUESTS_PER_FORM is the dial.
"""

from __future__ import annotations

import re
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.http import HttpResponse
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from accounts import tokens
from accounts.models import Invitation, User
from certifications.models import CalendarFeed, Credential, ResultImport
from curriculum.models import ChecklistStep, Program, RosterImport, StaffRole
from externships.models import ComplianceRequirement, Kind, Placement
from externships.services import evaluations as evaluation_services
from externships.services import hours as hours_services
from tests import factories
from tests.certification_factories import ExamAttemptFactory, track
from tests.externship_factories import (
    ComplianceRecordFactory,
    PlacementFactory,
    PreceptorFactory,
    RequirementFactory,
    SiteFactory,
    shift,
)
from tests.notification_factories import MessageFactory, NotificationFactory

SKIP_PATHS = ("static/", "accounts/logout/")
# Tables a request may write whether or not it refused what was posted (see the docstring).
WRITTEN_BY_EVERY_REQUEST = {"django_session", "accounts_accesslog", "accounts_chainhead"}

NUL = "wal\x00ker"
LONG = "x" * 10_000
EMOJI_RTL = "🩺 مرحبا بالعالم \u202eedoc\u202c שלום 👩🏽‍⚕️"
HUGE = str(10**30)
NOT_UTF8 = b"\xff\xfe\xc3\x28\xa0\xa1\xed\xa0\x80"
MALFORMED_FILE = SimpleUploadedFile("notes.pdf", b"not, a\x00, real\nfile \xff\xfe\n", "application/pdf")
# Past each kind of field's first variant, a form gets later variants up to this many in all.
PER_FIELD_REQUESTS_PER_FORM = 8


# --- The program the walker visits ------------------------------------------------------------------


@dataclass
class Records:
    """One program's records, by the URL segment that names them, and its other URL parameters."""

    code: str
    ids: dict[str, list[int]]
    tokens: dict[str, str]
    monday: date


def program_records(
    program: Program, *, student: User, instructor: User, coordinator: User, preceptor: User | None = None
) -> Records:
    """A cohort, a course taught, coursework, a competency checked off (signed, and a draft), a
    placement with a shift and an evaluation, a compliance document waiting, an exam booked and a
    credential, imports waiting, a reminder and a notification: a record behind every address."""
    framework = factories.FrameworkFactory()
    Program.objects.filter(pk=program.pk).update(framework=framework)
    program.refresh_from_db()
    enrollment = student.enrollments.get()
    cohort = enrollment.cohort
    offering = factories.OfferingFactory(cohort=cohort, instructor=instructor)
    assignment = factories.AssignmentFactory(offering=offering)
    signed_competency, draft_competency = factories.CompetencyFactory.create_batch(2, framework=framework)
    signed = factories.check_off(enrollment, signed_competency, instructor)
    draft = factories.check_off(enrollment, draft_competency, instructor, signed=False)
    step = ChecklistStep.objects.filter(program=program, competency=signed_competency).first()
    if preceptor is None:
        preceptor = cast(User, PreceptorFactory(site=SiteFactory(program=program)).user)
    preceptorship = preceptor.preceptorships.get()
    placement = PlacementFactory(
        enrollment=enrollment, site=preceptorship.site, preceptor=preceptorship, created_by=coordinator
    )
    Placement.objects.filter(pk=placement.pk).update(state=Placement.State.ACTIVE)
    placement.refresh_from_db()
    entry = shift(placement, placement.start_on)
    evaluation = evaluation_services.submit_evaluation(
        placement=placement,
        kind=Kind.MIDPOINT,
        evaluator=preceptor,
        ratings={item.pk: 4 for item in evaluation_services.form_items(placement, Kind.MIDPOINT)},
    )
    requirement = ComplianceRequirement.objects.filter(program=program).first() or RequirementFactory(program=program)
    record = ComplianceRecordFactory(student=student, requirement=requirement, state="pending")
    booking = ExamAttemptFactory(
        enrollment=enrollment, track=track(program, "CCMA"), result="", taken_on=None,
        scheduled_on=date.today() + timedelta(days=20),
    )  # fmt: skip
    passed = ExamAttemptFactory(enrollment=enrollment, track=track(program, "CMA"), taken_on=date.today())
    credential = Credential.objects.create(
        enrollment=enrollment, track=passed.track, exam_attempt=passed, issued_on=passed.taken_on
    )
    roster = RosterImport.objects.create(
        program=program, uploaded_by=coordinator, file_name="roster.csv", content=b"email\n"
    )
    setup = RosterImport.objects.create(
        program=program,
        kind=RosterImport.Kind.COHORTS,
        uploaded_by=coordinator,
        file_name="cohorts.csv",
        content=b"code\n",
    )
    results = ResultImport.objects.create(
        program=program,
        kind=ResultImport.Kind.EXAM_RESULTS,
        uploaded_by=coordinator,
        file_name="results.csv",
        content=b"email,credential,taken_on,result\n",
    )
    reminder = MessageFactory(recipient=student, program_id=program.pk)
    notification = NotificationFactory(recipient=student)
    invitation = Invitation.objects.create(user=student, invited_by=coordinator)
    feed = CalendarFeed.objects.create(user=student)
    staff = StaffRole.objects.filter(program=program, user=instructor).first()
    assert staff is not None and step is not None
    return Records(
        code=program.code,
        ids={
            "cohorts": [cohort.pk],
            "enrollments": [enrollment.pk],
            "grades": [enrollment.pk],
            "courses": [offering.course_id],
            "offerings": [offering.pk],
            "assignments": [assignment.pk],
            "attempts": [signed.pk, draft.pk],
            "competencies": [signed_competency.pk],
            "checklist": [step.pk],
            "staff": [staff.pk],
            "roster-imports": [roster.pk],
            "setup-imports": [setup.pk],
            "result-imports": [results.pk],
            "reminders": [reminder.pk],
            "notifications": [notification.pk],
            "exam-attempts": [booking.pk],
            "credentials": [credential.pk],
            "records": [record.pk],
            "requirements": [requirement.pk],
            "sites": [preceptorship.site_id],
            "preceptors": [preceptorship.pk],
            "placements": [placement.pk],
            "hours": [entry.pk],
            "evaluations": [evaluation.pk],
        },
        tokens={
            "invitation": tokens.make_token(invitation.pk),
            "calendar": feed.token,
            "mailbox": "20260302T091500123456-0f3a9c1e",
        },
        monday=hours_services.week_of(placement.start_on)[0],
    )


@dataclass
class World:
    people: dict[str, User | None]
    ours: Records
    theirs: Records


@pytest.fixture
def world(alice, bob, irene, ivan, dana, carlos, paula) -> World:
    """Alice's program seen by its people, and another program whose records none of them may see."""
    ours = program_records(
        alice.enrollments.get().cohort.program, student=alice, instructor=irene, coordinator=carlos, preceptor=paula
    )
    elsewhere = factories.ProgramFactory()
    other_student = factories.EnrollmentFactory(cohort=factories.CohortFactory(program=elsewhere)).student
    other_instructor = factories.StaffFactory(program=elsewhere, role=StaffRole.Role.INSTRUCTOR).user
    other_instructor.cohorts_taught.add(other_student.enrollments.get().cohort)
    other_coordinator = factories.StaffFactory(program=elsewhere, role=StaffRole.Role.COORDINATOR).user
    theirs = program_records(
        elsewhere, student=other_student, instructor=other_instructor, coordinator=other_coordinator
    )
    people = {
        "anonymous": None,
        "student": alice,
        "instructor": irene,
        "preceptor": paula,
        "coordinator": carlos,
        "director": dana,
    }
    return World(people=people, ours=ours, theirs=theirs)


# --- Every address, made concrete ---------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    name: str
    route: str
    parameters: tuple[str, ...]


def addresses() -> list[Address]:
    """Every named URL pattern with the names of its parameters, in the resolver's order."""
    found: list[Address] = []

    def walk(patterns: list[Any], route: str, namespace: str, parameters: tuple[str, ...]) -> None:
        for pattern in patterns:
            here = route + str(pattern.pattern)
            names = parameters + tuple(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
                walk(pattern.url_patterns, here, inner, names)
            elif isinstance(pattern, URLPattern) and pattern.name and not here.startswith(SKIP_PATHS):
                found.append(Address(f"{namespace}:{pattern.name}" if namespace else pattern.name, here, names))

    walk(get_resolver().url_patterns, "", "", ())
    return found


def segment_before(route: str, parameter: str) -> str:
    """The literal segment naming what a parameter is: `cohorts` in `cohorts/<int:pk>/`."""
    match = re.search(rf"([\w-]+)/(?:<(?:\w+:)?{parameter}>|\(\?P<{parameter}>)", route)
    return match.group(1) if match else ""


def parameter_values(address: Address, records: Records) -> Iterator[dict[str, Any]]:
    """The values that make the address concrete for one program's records (several for `attempts`)."""
    choices: dict[str, list[Any]] = {}
    for name in address.parameters:
        segment = segment_before(address.route, name)
        if name in ("code",):
            choices[name] = [records.code]
        elif name == "track_code":
            choices[name] = ["CMA"]
        elif name == "token":
            choices[name] = [records.tokens["calendar" if address.route.startswith("calendar") else "invitation"]]
        elif name == "key" and address.route.startswith("dev/"):
            choices[name] = [records.tokens["mailbox"]]
        elif name == "kind":
            choices[name] = [Kind.MIDPOINT]
        elif name == "monday":
            choices[name] = [records.monday]
        elif segment in records.ids:
            choices[name] = records.ids[segment]
        elif name in ("pk", "competency_pk", "enrollment_pk", "step_pk"):
            raise AssertionError(f"{address.route}: no record for the segment {segment!r}")
        else:
            # allauth's keys and the admin's parameters: a plausible value, refused by their own checks.
            choices[name] = [{"app_label": "curriculum", "uidb36": "2", "object_id": "1"}.get(name, "a1b2c3")]
    combinations: list[dict[str, Any]] = [{}]
    for name, values in choices.items():
        combinations = [{**partial, name: value} for partial in combinations for value in values]
    yield from combinations


def concrete(address: Address, records: Records) -> list[str]:
    # A pattern these values cannot fill raises NoReverseMatch here: teach parameter_values its parameters.
    return [reverse(address.name, kwargs=values) for values in parameter_values(address, records)]


def hostile_paths(address: Address, records: Records) -> Iterator[str]:
    """The address with a NUL, an impossible date and a 10,000-character value in place of each parameter."""
    for values in list(parameter_values(address, records))[:1]:
        for name in values:
            sentinel = "Q7Z9" if not isinstance(values[name], int) else 987_650_321
            try:
                url = reverse(address.name, kwargs={**values, name: sentinel})
            except NoReverseMatch:
                url = ""
            if not url:
                # A converter that refuses the sentinel (a date, a token): splice into the real address.
                real = reverse(address.name, kwargs=values)
                placeholder = str(values[name].isoformat() if isinstance(values[name], date) else values[name])
                if placeholder not in real:
                    continue
                url, sentinel = real, placeholder
            hostile = ["%00", "y" * 10_000] + (["9" * 40] if isinstance(values[name], int) else [])
            hostile += ["2026-02-30"] if isinstance(values[name], date) else []
            for value in hostile:
                yield url.replace(str(sentinel), value, 1)


# --- Forms, read from the page -------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, number, date, time, datetime-local, email, select, checkbox, radio, file, submit, hidden…
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    method: str
    action: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)


class FormReader(HTMLParser):
    """The forms of a page as a browser would submit them."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = attributes.get("action") or attributes.get("hx-post") or self.page_url
            self.form = Form(
                method=(attributes.get("method") or ("post" if "hx-post" in attributes else "get")).lower(),
                action=action,
                multipart=attributes.get("enctype") == "multipart/form-data",
            )
            self.forms.append(self.form)
            return
        if tag == "a" and "?" in attributes.get("href", ""):
            # A link with a query (a filter, a page number) is a GET form whose fields are its parameters.
            path, _question, query = attributes["href"].partition("?")
            link = Form(method="get", action=path or urlsplit(self.page_url).path, multipart=False)
            link.fields = [Field(name, "hidden", value) for name, value in parse_qsl(query, keep_blank_values=True)]
            self.forms.append(link)
            return
        if self.form is None or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = attributes.get("type", "text").lower()
            if kind in ("button", "reset", "image"):
                return
            self.form.fields.append(
                Field(name, kind, attributes.get("value", "on" if kind == "checkbox" else ""),
                      checked="checked" in attributes)
            )  # fmt: skip
        elif tag == "button" and name:
            self.form.fields.append(Field(name, "submit", attributes.get("value", "")))
        elif tag == "select" and name:
            self.select = Field(name, "select")
            self.form.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            value = attributes.get("value", "")
            self.select.options.append(value)
            if "selected" in attributes or (not self.select.value and value):
                self.select.value = value
        elif tag == "textarea" and name:
            self.textarea = Field(name, "textarea")
            self.form.fields.append(self.textarea)

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_on(page: str, url: str) -> list[Form]:
    reader = FormReader(url)
    reader.feed(page)
    return reader.forms


def baseline(form: Form) -> list[tuple[str, Any]]:
    """What a browser sends, with empty text filled in so that a create form can be valid."""
    pairs: list[tuple[str, Any]] = []
    submitted: set[str] = set()
    for item in form.fields:
        if item.kind in ("checkbox", "radio") and not item.checked:
            continue
        if item.kind == "submit" and item.name in submitted:
            continue
        if item.kind == "file":
            continue
        submitted.add(item.name)
        pairs.append((item.name, item.value or plausible(item)))
    return pairs


def plausible(item: Field) -> str:
    today = date.today()
    return {
        "number": "3",
        "date": (today + timedelta(days=1)).isoformat(),
        "time": "09:00",
        "datetime-local": f"{today.isoformat()}T09:00",
        "email": "walker@example.test",
        "password": "not the password",
        "url": "https://example.test/",
        "tel": "555-0100",
        "hidden": "",
        "select": "",
        "submit": "",
    }.get(item.kind, "Walker")


def field_variants(item: Field) -> list[str]:
    """The malformed values worth sending in one field, by what the field is."""
    if item.kind == "number":
        return ["-1", HUGE, "twelve", NUL]
    if item.kind == "date":
        return ["2026-02-30", "0000-00-00", NUL]
    if item.kind in ("time", "datetime-local"):
        return ["25:61", "2026-02-30T25:61", NUL]
    if item.kind in ("select", "radio", "submit"):
        return [HUGE, "-1", NUL]
    if item.kind in ("checkbox", "hidden"):
        return [NUL, HUGE]
    if item.kind == "file":
        return []
    return [NUL, LONG, EMOJI_RTL]


def form_variants(form: Form) -> Iterator[tuple[str, list[tuple[str, Any]] | bytes]]:
    """(what it is, the data) for each malformed submission of a form.

    Every kind of field gets its first variant (the NUL for text, the huge number for a number or a
    choice); the later variants fill up to PER_FIELD_REQUESTS_PER_FORM. The rows of a formset are one
    kind of field (`form-3-weight` is `form-N-weight`): its first row stands for the rest."""
    base = baseline(form)
    names = list(dict.fromkeys(item.name for item in form.fields if item.kind != "file"))
    kinds: dict[str, Field] = {}
    for item in form.fields:
        kinds.setdefault(re.sub(r"\d+", "N", item.name), item)
    ranked = sorted(
        (
            (rank, position, item.name, value)
            for position, item in enumerate(kinds.values())
            for rank, value in enumerate(field_variants(item))
        ),
    )
    per_field = [variant for variant in ranked if variant[0] == 0]
    per_field += [variant for variant in ranked if variant[0] > 0][
        : max(0, PER_FIELD_REQUESTS_PER_FORM - len(per_field))
    ]
    for _rank, _position, name, value in per_field:
        changed = [(key, value if key == name else old) for key, old in base]
        yield f"{name} = {value[:20]!r}", changed + ([] if name in dict(base) else [(name, value)])
    yield "every field empty", [(name, "") for name in names]
    yield "every field missing", []
    # Twice: the page's value, then another; the second is text any field refuses or takes harmlessly,
    # so that a form taking the last value does not rename the program under the rest of the walk.
    yield "every field twice", [pair for key, old in base for pair in ((key, old), (key, EMOJI_RTL))]
    if names:
        yield "bytes that are not UTF-8", b"&".join(name.encode() + b"=" + NOT_UTF8 for name in names)


# --- Watching what a request writes --------------------------------------------------------------------


def written() -> Counter[str]:
    """Rows each table had inserted, updated or deleted so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
        )
        return Counter(dict(cursor.fetchall()))


def refused(response: HttpResponse) -> bool:
    """Whether the submission was turned down: 4xx, a bound form with errors, or an error message."""
    if 400 <= response.status_code < 500:
        return True
    for context in response.context or []:
        for value in context.dicts if hasattr(context, "dicts") else [context]:
            for item in value.values() if isinstance(value, dict) else []:
                if isinstance(item, BaseForm | BaseFormSet) and item.is_bound and not item.is_valid():
                    return True
    request = getattr(response, "wsgi_request", None)
    return request is not None and any(message.level >= message_levels.ERROR for message in get_messages(request))


# --- The walk -----------------------------------------------------------------------------------------


@dataclass
class Walk:
    """One client, signed in as one person after another; what failed, and what was already tried."""

    client: Client
    role: str = "anonymous"
    failures: list[str] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    phase: str = "pages"
    forms_seen: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)
    methods_seen: set[str] = field(default_factory=set)

    def send(self, method: str, url: str, label: str = "", **options: Any) -> HttpResponse:
        self.requests[self.phase] += 1
        started = time.perf_counter()
        try:
            return self._send(method, url, label, **options)
        finally:
            self.seconds[self.phase] += time.perf_counter() - started

    def _send(self, method: str, url: str, label: str = "", **options: Any) -> HttpResponse:
        # Messages left by earlier requests (the walk never follows a redirect to show them) are dropped,
        # so that the ones on the response are this request's own.
        self.client.cookies.pop("messages", None)
        response = getattr(self.client, method)(url, **options)
        if response.status_code >= 500:
            self.failures.append(
                f"as {self.role}: {method.upper()} {url[:150]}{f' ({label})' if label else ''}"
                f" answered {response.status_code}{cause(response)}"
            )
        if self.role != "anonymous" and response.get("Location", "").startswith(LOCKED_OUT):
            # The person was signed out or sent to set up two-factor: what follows would test the
            # sign-in page only.
            raise AssertionError(f"as {self.role}: {method.upper()} {url[:150]} ({label}) locked the walk out")
        return response

    def send_and_undo(self, method: str, url: str, label: str = "", **options: Any) -> HttpResponse:
        """A request in a savepoint rolled back after it: each variant meets the same records (an
        accepted one that turns on two-factor for staff, or withdraws the placement, changes nothing
        for the next), and a request that breaks the transaction does not end the walk."""
        with transaction.atomic():
            before = written()
            response = self.send(method, url, label, **options)
            if response.status_code < 500 and refused(response):
                changed = written() - before
                for table in WRITTEN_BY_EVERY_REQUEST:
                    changed.pop(table, None)
                if changed:
                    self.failures.append(
                        f"as {self.role}: {method.upper()} {url} ({label}) was refused ({response.status_code})"
                        f" but wrote {dict(changed)}"
                    )
            transaction.set_rollback(True)
        return response

    def submit(self, form: Form, label: str, data: list[tuple[str, Any]] | bytes) -> None:
        if form.method == "get":
            # WSGI carries the query string as latin-1 text: bytes that are not UTF-8 arrive as they are.
            query = data.decode("latin-1") if isinstance(data, bytes) else urlencode(data)
            self.send_and_undo("get", urlsplit(form.action).path, label, QUERY_STRING=query)
        elif isinstance(data, bytes):
            self.send_and_undo("post", form.action, label, data=data, content_type=FORM_ENCODED)
        elif form.multipart:
            files = {item.name: MALFORMED_FILE for item in form.fields if item.kind == "file"}
            for upload in files.values():
                upload.seek(0)
            self.send_and_undo("post", form.action, label, data={**multidict(data), **files})
        else:
            self.send_and_undo("post", form.action, label, data=urlencode(data), content_type=FORM_ENCODED)

    def walk_forms(self, page: str, url: str) -> None:
        for form in forms_on(page, url):
            if form.action.startswith(SKIP_FORMS):
                continue
            key = (form.method, shape_of(form.action), tuple(sorted(item.name for item in form.fields)))
            if key in self.forms_seen:
                continue
            self.forms_seen.add(key)
            for label, data in form_variants(form):
                self.submit(form, label, data)

    def other_methods(self, url: str) -> None:
        for method in ("head", "options", "put", "delete"):
            self.send_and_undo(method, url, method.upper())

    def stop_if_broken(self) -> None:
        if connection.needs_rollback or broken_transaction():
            # A GET that breaks the test's transaction leaves nothing to walk on with.
            raise AssertionError("\n".join([*self.failures, "…and it broke the transaction: the walk stops."]))


FORM_ENCODED = "application/x-www-form-urlencoded"
LOCKED_OUT = ("/accounts/login/", "/accounts/2fa/")
SKIP_FORMS = ("/accounts/logout/",)


def cause(response: HttpResponse) -> str:
    """Where the exception behind a 500 was raised, and what it was."""
    exc_info = getattr(response, "exc_info", None)
    if not exc_info:
        return ""
    frame = traceback.extract_tb(exc_info[2])[-1]
    return f": {exc_info[1]!r} at {frame.filename.rsplit('/', 2)[-2:]}:{frame.lineno}"[:300]


def broken_transaction() -> bool:
    from psycopg.pq import TransactionStatus

    raw = connection.connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.INERROR


def multidict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        data.setdefault(key, []).append(value)
    return data


def shape_of(url: str) -> str:
    """An address with its numbers blanked: the grade cells of one gradebook are one form."""
    return re.sub(r"\d+", "N", urlsplit(url).path)


def sign_in(walk: Walk, world: World, role: str) -> None:
    walk.role = role
    walk.client.logout()
    person = world.people[role]
    if person is not None:
        walk.client.force_login(person)


def walking_order(url: str) -> int:
    """Forms that end things (a withdrawal, a deletion) go late and the program's own settings last: an
    accepted variant there (two-factor for staff turned on, another framework) changes every page after."""
    if re.fullmatch(r"/programs/[^/]+/edit/", url):
        return 2
    return 1 if re.search(r"/(delete|remove|withdraw|deactivate|revoke|discard|cancel|complete)/", url) else 0


def test_no_address_or_form_fails_for_anyone_and_a_refused_form_writes_nothing(client, world, settings):
    """Every role GETs every address (its program's records and another's); every form found is posted
    malformed, once, by the first role that finds it; an address a role opens also gets HEAD, OPTIONS,
    PUT and DELETE, once, from the first role that opens it."""
    started = time.monotonic()
    # Messages in the cookie alone (not overflowing into the session), so that dropping the cookie
    # before each request leaves on the response only that request's own messages.
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
    client.raise_request_exception = False
    walk = Walk(client)
    everywhere = addresses()
    ours = [url for address in everywhere if not is_admin(address) for url in concrete(address, world.ours)]
    theirs = [url for address in everywhere if not is_admin(address) for url in concrete(address, world.theirs)]
    admin = [url for address in everywhere if is_admin(address) for url in concrete(address, world.ours)]
    opened: dict[str, int] = {}
    for role in ROLES:
        sign_in(walk, world, role)
        pages: list[tuple[str, str]] = []
        # The admin lets in superusers with two-factor only: everyone else meets the same sign-in page.
        urls = ours + (theirs if role != "anonymous" else admin)
        for url in dict.fromkeys(urls):
            walk.phase = "pages"
            response = walk.send("get", url)
            walk.stop_if_broken()
            if response.status_code != 200:
                continue
            if response.get("Content-Type", "").startswith("text/html"):
                pages.append((url, response.content.decode()))
            if url not in walk.methods_seen:
                walk.methods_seen.add(url)
                walk.phase = "methods"
                walk.other_methods(url)
        walk.phase = "forms"
        for url, page in sorted(pages, key=lambda page: walking_order(page[0])):
            walk.walk_forms(page, url)
            sign_in(walk, world, role)  # a form may have signed the person out
        opened[role] = len(pages)
    elapsed = time.monotonic() - started
    seconds = {phase: round(value, 1) for phase, value in walk.seconds.items()}
    print(f"\nwalk: {dict(walk.requests)} requests taking {seconds} s, {len(walk.forms_seen)} forms, {elapsed:.1f} s")
    assert walk.failures == [], "\n".join(walk.failures)
    # The walk reached each person's pages: a lock-out half-way (a form that signs one out) would pass silently.
    assert all(opened[role] >= least for role, least in LEAST_PAGES.items()), opened


# The least able first: a director's accepted variants (a preceptor deactivated, a placement withdrawn)
# would otherwise close the pages of the people walked after.
ROLES = ["anonymous", "student", "preceptor", "instructor", "coordinator", "director"]
LEAST_PAGES = {"anonymous": 3, "student": 8, "preceptor": 3, "instructor": 8, "coordinator": 20, "director": 20}


def is_admin(address: Address) -> bool:
    return address.route.startswith("admin/")


def test_no_address_fails_with_a_nul_or_an_oversized_segment(client, world):
    client.raise_request_exception = False
    walk = Walk(client)
    everywhere = addresses()
    for role in ("anonymous", "director"):
        sign_in(walk, world, role)
        for address in everywhere:
            if role == "anonymous" or not is_admin(address):
                for url in hostile_paths(address, world.ours):
                    walk.send("get", url)
                    walk.stop_if_broken()
    assert walk.failures == [], "\n".join(walk.failures)
