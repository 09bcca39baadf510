"""The demo mailbox: with DEBUG on, the emails the app sent, readable in the browser."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from notifications import mail
from notifications.permissions import can_read_demo_mailbox


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
