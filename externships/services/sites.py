"""Site and preceptor use cases: a program's clinical sites, and the people there who supervise students.

Preceptors are outside the school. They never choose a password: their address is verified when
they are added, and they sign in with a one-time code emailed by allauth. The welcome email tells
them so, and links to the page where they ask for a code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from curriculum.models import Enrollment, Program, StaffRole
from externships.models import Placement, Preceptor, Site
from notifications.services import notify

logger = logging.getLogger(__name__)

# An agreement this close to its end is flagged, so that it is renewed before a placement needs it.
AGREEMENT_WARNING = timedelta(days=90)
OPEN_PLACEMENT_STATES = (Placement.State.PLANNED, Placement.State.ACTIVE)


@dataclass(frozen=True)
class AgreementStatus:
    """Where a site's affiliation agreement stands on a given day."""

    state: str  # "none", "expired", "expiring" or "valid"
    expires_on: date | None
    days_left: int | None

    @property
    def allows_placements(self) -> bool:
        return self.state in ("expiring", "valid")


def agreement_status(site: Site, *, today: date) -> AgreementStatus:
    """None on file, expired, expiring within 90 days, or valid: what the site pages show."""
    expires_on = site.agreement_expires_on
    if expires_on is None:
        return AgreementStatus("none", None, None)
    days_left = (expires_on - today).days
    if days_left < 0:
        state = "expired"
    elif days_left <= AGREEMENT_WARNING.days:
        state = "expiring"
    else:
        state = "valid"
    return AgreementStatus(state, expires_on, days_left)


# --- Sites ------------------------------------------------------------------------------------


def _check_site_name(site: Site) -> None:
    """Names are unique in a program whatever their case: "Lakeside clinic" is "Lakeside Clinic"."""
    taken = Site.objects.filter(program=site.program_id, name__iexact=site.name.strip()).exclude(pk=site.pk)
    if taken.exists():
        raise ValidationError({"name": _("The program already has a site named %(name)s.") % {"name": site.name}})


def _save_site(site: Site) -> Site:
    site.name = site.name.strip()
    _check_site_name(site)
    try:
        with transaction.atomic():
            site.save()
    except IntegrityError as error:
        # Another coordinator saved the same name between the check and the save.
        raise ValidationError(
            {"name": _("The program already has a site named %(name)s.") % {"name": site.name}}
        ) from error
    return site


@transaction.atomic
def create_site(*, program: Program, site: Site) -> Site:
    """Add a clinical site to the program."""
    site.program = program
    return _save_site(site)


@transaction.atomic
def update_site(*, site: Site) -> Site:
    """Save a site's facts; its program never changes."""
    return _save_site(site)


# --- Preceptors -------------------------------------------------------------------------------


def _check_outside_the_program(user: User, program: Program) -> None:
    """A preceptor supervises the program's students from outside: not one of them, not its staff.

    A graduate may come back as a preceptor; a current student may not approve classmates' hours."""
    if Enrollment.objects.current().filter(student=user, cohort__program=program).exists():
        raise ValidationError(
            {"email": _("%(email)s belongs to a current student of this program.") % {"email": user.email}}
        )
    if StaffRole.objects.filter(user=user, program=program).exists():
        raise ValidationError(
            {
                "email": _("%(email)s belongs to the program's staff; a preceptor is a person at the site.")
                % {"email": user.email}
            }
        )


def _preceptor_user(*, email: str, first_name: str, last_name: str) -> User:
    """The person with this address, or a new account that signs in by emailed code only."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, first_name=first_name.strip(), last_name=last_name.strip())
        # The code sign-in mails this address; a verified address is what lets them in.
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    elif not user.is_active:
        raise ValidationError({"email": _("The account of %(email)s is closed.") % {"email": email}})
    return user


@transaction.atomic
def add_preceptor(
    *, site: Site, email: str, first_name: str, last_name: str, title: str, phone: str, added_by: User
) -> Preceptor:
    """Make someone a preceptor at the site (a new person gets an account) and welcome them by email.

    One person may supervise at several sites, but is added to a site once."""
    email = email.strip().lower()
    user = _preceptor_user(email=email, first_name=first_name, last_name=last_name)
    _check_outside_the_program(user, site.program)
    existing = Preceptor.objects.filter(site=site, user=user).first()
    if existing is not None:
        if existing.is_active:
            message = _("%(person)s is already a preceptor at %(site)s.")
        else:
            message = _("%(person)s was a preceptor at %(site)s before: reactivate them instead.")
        raise ValidationError({"email": message % {"person": user, "site": site.name}})
    try:
        with transaction.atomic():
            preceptor = Preceptor.objects.create(site=site, user=user, title=title.strip(), phone=phone.strip())
    except IntegrityError as error:
        raise ValidationError(
            {"email": _("%(person)s is already a preceptor at %(site)s.") % {"person": user, "site": site.name}}
        ) from error
    logger.info("Preceptor %s added at site %s by user %s", preceptor.pk, site.pk, added_by.pk)
    _welcome(preceptor)
    return preceptor


@transaction.atomic
def update_preceptor(*, preceptor: Preceptor) -> Preceptor:
    """Save a preceptor's title and phone at the site. Their name and address are their own to change."""
    preceptor.title = preceptor.title.strip()
    preceptor.phone = preceptor.phone.strip()
    preceptor.save(update_fields=["title", "phone"])
    return preceptor


@transaction.atomic
def deactivate_preceptor(*, preceptor: Preceptor) -> Preceptor:
    """Take a preceptor's access to the site's students away at once. Their placements keep them as history.

    Open placements stay with them until a coordinator reassigns them: refusing here would leave
    someone who left the site able to see students' records."""
    Preceptor.objects.filter(pk=preceptor.pk).update(is_active=False)
    preceptor.is_active = False
    return preceptor


@transaction.atomic
def reactivate_preceptor(*, preceptor: Preceptor) -> Preceptor:
    """Give a former preceptor back their students at the site."""
    Preceptor.objects.filter(pk=preceptor.pk).update(is_active=True)
    preceptor.is_active = True
    return preceptor


def resend_welcome(*, preceptor: Preceptor) -> None:
    """Send the welcome email again, for a preceptor who lost it or never got it."""
    if not preceptor.is_active:
        raise ValidationError(_("%(person)s is not an active preceptor.") % {"person": preceptor.user})
    _welcome(preceptor)


def _welcome(preceptor: Preceptor) -> None:
    """The welcome, through the outbox: sent after commit, in the person's language."""
    from externships.reminders import PRECEPTOR_WELCOME

    notify(
        recipient_id=preceptor.user_id,
        kind=PRECEPTOR_WELCOME,
        subject=f"preceptor:{preceptor.pk}",
        occasion=timezone.now().isoformat(),
        program_id=preceptor.site.program_id,
        context={"preceptor_id": preceptor.pk},
    )


def code_sign_in_url() -> str:
    return settings.SITE_URL + reverse("account_request_login_code")
