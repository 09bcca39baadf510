from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from curriculum import services
from curriculum.models import (
    Accreditor,
    Assignment,
    Attempt,
    ChecklistStep,
    Cohort,
    Competency,
    CompetencyFramework,
    ContentArea,
    Course,
    CourseOffering,
    Enrollment,
    Grade,
    Program,
    StaffRole,
)

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


class ProgramFactory(factory.django.DjangoModelFactory[Program]):
    class Meta:
        model = Program

    code = factory.Sequence(lambda n: f"MA-{n}")
    name = factory.Sequence(lambda n: f"Medical Assisting {n}")
    accreditor = Accreditor.CAAHEP
    time_zone = "America/Chicago"


class StaffFactory(factory.django.DjangoModelFactory[StaffRole]):
    class Meta:
        model = StaffRole

    class Params:
        first_name = "Staff"

    program = factory.SubFactory(ProgramFactory)
    user = factory.SubFactory(UserFactory, first_name=factory.SelfAttribute("..first_name"))
    role = StaffRole.Role.INSTRUCTOR


class CohortFactory(factory.django.DjangoModelFactory[Cohort]):
    class Meta:
        model = Cohort

    program = factory.SubFactory(ProgramFactory)
    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"Cohort {n}")
    start_on = factory.LazyFunction(lambda: date.today() - timedelta(days=60))
    expected_graduation_on = factory.LazyFunction(lambda: date.today() + timedelta(days=300))


class CourseFactory(factory.django.DjangoModelFactory[Course]):
    class Meta:
        model = Course

    program = factory.SubFactory(ProgramFactory)
    code = factory.Sequence(lambda n: f"MA{100 + n}")
    title = factory.Sequence(lambda n: f"Clinical Procedures {n}")


class OfferingFactory(factory.django.DjangoModelFactory[CourseOffering]):
    class Meta:
        model = CourseOffering

    cohort = factory.SubFactory(CohortFactory)
    course = factory.SubFactory(CourseFactory, program=factory.SelfAttribute("..cohort.program"))
    instructor = None
    starts_on = factory.LazyAttribute(lambda offering: offering.cohort.start_on)
    ends_on = factory.LazyAttribute(lambda offering: offering.cohort.start_on + timedelta(days=120))


class EnrollmentFactory(factory.django.DjangoModelFactory[Enrollment]):
    class Meta:
        model = Enrollment

    student = factory.SubFactory(UserFactory)
    cohort = factory.SubFactory(CohortFactory)
    admitted_on = factory.LazyAttribute(lambda enrollment: enrollment.cohort.start_on)


class AssignmentFactory(factory.django.DjangoModelFactory[Assignment]):
    class Meta:
        model = Assignment

    offering = factory.SubFactory(OfferingFactory)
    title = factory.Sequence(lambda n: f"Quiz {n}")
    kind = Assignment.Kind.QUIZ
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    points = Decimal(20)


class GradeFactory(factory.django.DjangoModelFactory[Grade]):
    class Meta:
        model = Grade

    assignment = factory.SubFactory(AssignmentFactory)
    enrollment = factory.SubFactory(EnrollmentFactory)
    points_earned = Decimal(15)
    graded_by = factory.SubFactory(UserFactory)


class FrameworkFactory(factory.django.DjangoModelFactory[CompetencyFramework]):
    class Meta:
        model = CompetencyFramework

    code = factory.Sequence(lambda n: f"FW-{n}")
    name = factory.Sequence(lambda n: f"Framework {n}")
    version = "2022"


class ContentAreaFactory(factory.django.DjangoModelFactory[ContentArea]):
    class Meta:
        model = ContentArea

    framework = factory.SubFactory(FrameworkFactory)
    code = factory.Sequence(lambda n: f"A{n}")
    title = factory.Sequence(lambda n: f"Content area {n}")
    order = factory.Sequence(lambda n: n)


class CompetencyFactory(factory.django.DjangoModelFactory[Competency]):
    class Meta:
        model = Competency

    framework = factory.SubFactory(FrameworkFactory)
    content_area = factory.SubFactory(ContentAreaFactory, framework=factory.SelfAttribute("..framework"))
    code = factory.Sequence(lambda n: f"I.P.{n}")
    domain = "P"
    title = factory.Sequence(lambda n: f"Skill {n}")
    order = factory.Sequence(lambda n: n)


class ChecklistStepFactory(factory.django.DjangoModelFactory[ChecklistStep]):
    class Meta:
        model = ChecklistStep

    program = factory.SubFactory(ProgramFactory)
    competency = factory.SubFactory(CompetencyFactory)
    order = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Step {n}")
    points = 1
    is_critical = False


def check_off(
    enrollment: Enrollment,
    competency: Competency,
    evaluator: User,
    *,
    passed: bool = True,
    signed: bool = True,
    performed_at: datetime | None = None,
) -> Attempt:
    """A check-off recorded and signed through the services, passing or failing; a draft with signed=False.

    A competency with no checklist in the student's program gets a one-step, critical checklist."""
    program = enrollment.cohort.program
    steps = list(ChecklistStep.objects.filter(program=program, competency=competency))
    if not steps:
        steps = [
            ChecklistStep.objects.create(
                program=program, competency=competency, order=1, text="Perform the skill", is_critical=True
            )
        ]
    attempt = services.record_attempt(
        enrollment=enrollment,
        competency=competency,
        evaluator=evaluator,
        performed_step_ids={step.pk for step in steps} if passed else set(),
        setting="lab",
        performed_at=performed_at,
        comment="" if passed else "Practise the critical step.",
    )
    if signed:
        services.sign_attempt(attempt=attempt, signer=evaluator)
    return attempt
