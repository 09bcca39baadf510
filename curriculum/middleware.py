from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

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
    """Staff of a program that requires two-factor sign-in must set it up before anything else."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/me/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and StaffRole.objects.filter(user=user, program__require_staff_two_factor=True).exists()
            and not is_mfa_enabled(user)
        ):
            messages.warning(
                request,
                _("Your program requires two-factor sign-in for staff. Set up an authenticator app to continue."),
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
