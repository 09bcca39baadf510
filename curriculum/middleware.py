from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import single_sign_on
from curriculum.models import Enrollment, Program, StaffRole

SESSION_TIME_ZONE = "checkoff_time_zone"


class ProgramTimeZoneMiddleware:
    """Show times in the person's program's time zone; looked up once a session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            zone = request.session.get(SESSION_TIME_ZONE)
            if zone is None:
                zone = (
                    Program.objects.filter(staff_roles__user=user).values_list("time_zone", flat=True).first()
                    or Enrollment.objects.filter(student=user)
                    .order_by("-admitted_on")
                    .values_list("cohort__program__time_zone", flat=True)
                    .first()
                    # A preceptor (externships) sees the times of the program whose site they work at.
                    or Program.objects.filter(sites__preceptors__user=user).values_list("time_zone", flat=True).first()
                    or ""
                )
                request.session[SESSION_TIME_ZONE] = zone
            if zone:
                timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class RequireStaffTwoFactorMiddleware:
    """Staff who must sign in strongly set up two-factor before any other page.

    Two rules ask for it: a program that requires two-factor of its staff (`require_staff_two_factor`),
    and the installation's STAFF_SIGN_IN policy "provider_or_two_factor", which the school's own
    sign-in also satisfies (the school's provider carries its own checks). Staff are directors,
    coordinators and instructors, and the admin site's superusers."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/me/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(self.ALLOWED_PREFIXES):
            message = self._unmet_rule(request)
            if message:
                messages.warning(request, message)
                return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _unmet_rule(request: HttpRequest) -> str:
        """The message for the rule this person's sign-in does not meet, or "" (one query for most)."""
        user = request.user
        assert user.is_authenticated  # the caller asked
        programs_require = list(
            StaffRole.objects.filter(user=user).values_list("program__require_staff_two_factor", flat=True)
        )
        policy_applies = settings.STAFF_SIGN_IN == "provider_or_two_factor" and (
            bool(programs_require) or user.is_superuser
        )
        if not any(programs_require) and not policy_applies:
            return ""
        if is_mfa_enabled(user):
            return ""
        if any(programs_require):
            return _("Your program requires two-factor sign-in for staff. Set up an authenticator app to continue.")
        if single_sign_on.signed_in_through_provider(request):
            return ""
        providers = single_sign_on.school_providers(request)
        if not providers:
            return _("Checkoff requires staff to sign in with two-factor. Set up an authenticator app to continue.")
        return _(
            "Checkoff requires staff to sign in through %(provider)s or with two-factor. Set up an authenticator "
            "app to continue, or sign out and sign in with %(provider)s."
        ) % {"provider": single_sign_on.display_name(providers[0])}
