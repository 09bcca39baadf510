"""The notification centre, the person's reminder preferences, and the demo mailbox."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from notifications import mail, services
from notifications.forms import MarkReadForm, PreferencesForm
from notifications.kinds import kind_of, kinds
from notifications.permissions import can_choose_preferences, can_read_demo_mailbox, visible_to

PAGE_SIZE = 25


@require_GET
def mailbox(request: HttpRequest) -> HttpResponse:
    if not can_read_demo_mailbox():
        raise Http404
    return render(request, "notifications/mailbox.html", {"messages_kept": mail.kept_messages()})


@require_GET
def mailbox_message(request: HttpRequest, key: str) -> HttpResponse:
    message = mail.kept_message(key) if can_read_demo_mailbox() else None
    if message is None:
        raise Http404
    return render(request, "notifications/mailbox_message.html", {"message": message})


@require_GET
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    """The person's notifications, newest first, unread marked; a page costs the same however many."""
    page = Paginator(visible_to(request.user).order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    known = kinds()
    items = [
        (notification, known[notification.kind].words(notification.context) if notification.kind in known else None)
        for notification in page
    ]
    return render(request, "notifications/notification_list.html", {"page": page, "items": items})


@require_GET
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Follow a notification to the thing to do, marking it read on the way."""
    notification = get_object_or_404(visible_to(request.user), pk=pk)
    services.mark_read(user=request.user, notification_ids=[notification.pk])
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("notifications:list")


@require_POST
def mark_read(request: AuthenticatedRequest) -> HttpResponse:
    """Mark the chosen notifications read, or all of them."""
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Nothing was marked read: %(problem)s") % {"problem": form.problem()})
        return redirect("notifications:list")
    ids = form.cleaned_data["ids"]
    if ids and visible_to(request.user).filter(pk__in=ids).count() != len(set(ids)):
        raise Http404
    changed = services.mark_read(user=request.user, notification_ids=ids or None)
    messages.success(request, _("Marked %(count)s read.") % {"count": changed})
    return redirect("notifications:list")


@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    """For each kind of reminder the person may get: email and in the app, in the app only, or off."""
    if not can_choose_preferences(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                services.set_preferences(user=request.user, choices=form.cleaned_data)
            except ValidationError as error:
                for kind, problems in error.message_dict.items():
                    form.add_error(kind if kind in form.fields else None, problems)
            else:
                messages.success(request, _("Your reminder choices are saved."))
                return redirect("notifications:preferences")
    else:
        form = PreferencesForm(initial=services.preferences_of(request.user))
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "groups": form.groups(), "critical": [kind_of(key) for key in kinds() if kind_of(key).critical]},
    )
