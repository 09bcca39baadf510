"""Site and preceptor pages, for a program's directors and coordinators.

Views decide who may act (externships/permissions.py); services decide what happens
(externships/services/sites.py). Someone who cannot see a site gets a 404; an instructor of the
program, who can see the program but not manage its sites, gets a 403 on the program's pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum.views.coursework import form_errors_to
from externships import permissions
from externships.forms.sites import PreceptorAddForm, PreceptorForm, SiteForm
from externships.models import Preceptor, Site
from externships.services import sites as services
from externships.views import managed_program

PAGE_SIZE = 25
OPEN_STATES = services.OPEN_PLACEMENT_STATES


def _site_to_manage(request: AuthenticatedRequest, pk: int) -> Site:
    site = get_object_or_404(permissions.visible_sites(request.user).select_related("program"), pk=pk)
    if not permissions.can_manage_externships(request.user, site.program):
        raise PermissionDenied
    return site


def _preceptor_to_manage(request: AuthenticatedRequest, pk: int) -> Preceptor:
    preceptor = get_object_or_404(
        permissions.visible_preceptors(request.user).select_related("user", "site__program"), pk=pk
    )
    if not permissions.can_manage_externships(request.user, preceptor.site.program):
        raise PermissionDenied
    return preceptor


# --- Sites ------------------------------------------------------------------------------------


@require_GET
def site_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The program's sites with their room, agreement and preceptors, counted in the page's one query."""
    program = managed_program(request, code)
    sites = (
        permissions.visible_sites(request.user)
        .filter(program=program)
        .annotate(
            placed_now=Count("placements", filter=Q(placements__state__in=OPEN_STATES), distinct=True),
            preceptor_count=Count("preceptors", filter=Q(preceptors__is_active=True), distinct=True),
        )
        .order_by("name")
    )
    page = Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(site, services.agreement_status(site, today=today)) for site in page]
    return render(request, "externships/site_list.html", {"program": program, "page": page, "rows": rows})


@require_http_methods(["GET", "POST"])
def site_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = managed_program(request, code)
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.create_site(program=program, site=form.save(commit=False))
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Site added. Add its preceptors next."))
            return redirect("externships:site-detail", pk=site.pk)
    return render(request, "externships/site_form.html", {"form": form, "program": program})


@require_http_methods(["GET", "POST"])
def site_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    site = _site_to_manage(request, pk)
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_site(site=form.save(commit=False))
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Site saved."))
            return redirect("externships:site-detail", pk=site.pk)
    return render(request, "externships/site_form.html", {"form": form, "program": site.program, "site": site})


@require_GET
def site_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A site's facts, its preceptors, its own requirements and its placements (a page of them)."""
    site = _site_to_manage(request, pk)
    preceptors = (
        site.preceptors.select_related("user")
        .annotate(open_placements=Count("placements", filter=Q(placements__state__in=OPEN_STATES)))
        .order_by("-is_active", "user__last_name", "user__first_name")
    )
    placements = site.placements.select_related("enrollment__student", "enrollment__cohort", "preceptor__user")
    page = Paginator(placements.order_by("-start_on", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "externships/site_detail.html",
        {
            "site": site,
            "program": site.program,
            "agreement": services.agreement_status(site, today=timezone.localdate()),
            "placed_now": site.placements.filter(state__in=OPEN_STATES).count(),
            "preceptors": preceptors,
            "requirements": site.extra_requirements.order_by("order", "name"),
            "page": page,
        },
    )


# --- Preceptors -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def preceptor_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    site = _site_to_manage(request, pk)
    form = PreceptorAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            preceptor = services.add_preceptor(site=site, added_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(
                request,
                _("%(person)s is a preceptor at %(site)s. A welcome email is on its way to %(email)s.")
                % {"person": preceptor.user, "site": site.name, "email": preceptor.user.email},
            )
            return redirect("externships:site-detail", pk=site.pk)
    return render(request, "externships/preceptor_form.html", {"form": form, "site": site, "program": site.program})


@require_http_methods(["GET", "POST"])
def preceptor_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    preceptor = _preceptor_to_manage(request, pk)
    form = PreceptorForm(request.POST or None, instance=preceptor)
    if request.method == "POST" and form.is_valid():
        services.update_preceptor(preceptor=form.save(commit=False))
        messages.success(request, _("Preceptor saved."))
        return redirect("externships:site-detail", pk=preceptor.site_id)
    return render(
        request,
        "externships/preceptor_form.html",
        {"form": form, "site": preceptor.site, "program": preceptor.site.program, "preceptor": preceptor},
    )


@require_POST
def preceptor_deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Access ends at once; open placements are named so that a coordinator reassigns them."""
    preceptor = _preceptor_to_manage(request, pk)
    services.deactivate_preceptor(preceptor=preceptor)
    messages.success(request, _("%(person)s no longer sees students at this site.") % {"person": preceptor.user})
    open_placements = preceptor.placements.filter(state__in=OPEN_STATES).count()
    if open_placements:
        messages.warning(
            request,
            ngettext(
                "%(count)s open placement still names them as preceptor: assign another preceptor.",
                "%(count)s open placements still name them as preceptor: assign another preceptor.",
                open_placements,
            )
            % {"count": open_placements},
        )
    return redirect("externships:site-detail", pk=preceptor.site_id)


@require_POST
def preceptor_reactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    preceptor = _preceptor_to_manage(request, pk)
    services.reactivate_preceptor(preceptor=preceptor)
    messages.success(request, _("%(person)s is a preceptor at this site again.") % {"person": preceptor.user})
    return redirect("externships:site-detail", pk=preceptor.site_id)


@require_POST
def preceptor_welcome(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Send the welcome again: the email that explains signing in by code."""
    preceptor = _preceptor_to_manage(request, pk)
    try:
        services.resend_welcome(preceptor=preceptor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("A new welcome email is on its way to %(email)s.") % {"email": preceptor.user.email}
        )
    return redirect("externships:site-detail", pk=preceptor.site_id)
