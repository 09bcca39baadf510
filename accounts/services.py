from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts import tasks, tokens
from accounts.models import Invitation, User
from config import bulk

logger = logging.getLogger(__name__)

# Invitations a sending task takes. Each queued task costs a round trip to the broker inside the
# request that commits; a roster import invites thousands, and a task of 1,000 sends them in a few
# minutes. Sending claims each invitation (`send_invitation`), so a task run twice sends nothing twice.
INVITATION_BATCH = 1000


@transaction.atomic
def invite(*, users: QuerySet[User], invited_by: User | None) -> dict[int, int]:
    """Invite everyone `users` selects and send the invitations after commit, in batches; returns
    each person's new invitation by their id.

    One statement, whatever the number: the people are selected, their allauth email address
    (unverified, primary) and their invitation written, all in the database, so a roster import
    inviting thousands builds no object per person. The query decides who is invited: a caller that
    must not invite anyone twice selects with that rule (curriculum's `not_yet_invited`), and the
    selection sees every invitation committed before the statement began."""
    try:
        chosen, chosen_parameters = users.order_by().values("pk", "email").distinct().query.sql_with_params()
    except EmptyResultSet:  # a selection that can hold nobody (`pk__in=[]`) has no SQL
        return {}
    quote = connection.ops.quote_name
    address, invitation = EmailAddress._meta, Invitation._meta
    # Our own tables and columns, quoted; the selection is Django's SQL with its parameters, and every
    # value is a parameter. An address a person already has (or another person verified) is kept as it is.
    sql = f"""
        WITH invited (id, email) AS MATERIALIZED ({chosen}),
        addresses AS (
            INSERT INTO {quote(address.db_table)} (user_id, email, {quote("primary")}, verified)
            SELECT id, email, true, false FROM invited
            ON CONFLICT DO NOTHING
        )
        INSERT INTO {quote(invitation.db_table)} (user_id, invited_by_id, created_at)
        SELECT id, %s, %s FROM invited ORDER BY id
        RETURNING id, user_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*chosen_parameters, invited_by.pk if invited_by else None, timezone.now()])
        invited = {user_id: invitation_id for invitation_id, user_id in cursor.fetchall()}
    ids = sorted(invited.values())
    for start in range(0, len(ids), INVITATION_BATCH):
        batch = ids[start : start + INVITATION_BATCH]
        transaction.on_commit(lambda batch=batch: tasks.enqueue_invitations(batch))  # type: ignore[misc]
    return invited


@transaction.atomic
def invite_users(*, users: Iterable[User], invited_by: User | None) -> list[Invitation]:
    """Invite these people, each whether invited before or not (see `invite`), and send the
    invitations after commit; returns their invitations in the order of `users`."""
    people = {user.pk: user for user in users}
    invited = invite(users=User.objects.filter(bulk.AnyOf("pk", people)), invited_by=invited_by)
    invitations = {invitation.user_id: invitation for invitation in Invitation.objects.filter(pk__in=invited.values())}
    for user_id, invitation in invitations.items():
        invitation.user = people[user_id]
    return [invitations[user_id] for user_id in people]


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("accounts:accept-invitation", args=[tokens.make_token(invitation.pk)])


def send_invitation(*, invitation_id: int) -> bool:
    """Send one invitation email unless it was sent already; safe to run twice or concurrently."""
    now = timezone.now()
    if Invitation.objects.claimable(now).filter(pk=invitation_id).update(claimed_at=now) != 1:
        return False
    invitation = Invitation.objects.select_related("user", "invited_by").get(pk=invitation_id)
    user = invitation.user
    context = {
        "invitation": invitation,
        "user": user,
        "url": invitation_url(invitation),
        "invitation_days": settings.INVITATION_VALID_DAYS,
    }
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject = render_to_string("emails/invitation_subject.txt", context).strip()
        text = render_to_string("emails/invitation.txt", context)
        html = render_to_string("emails/invitation.html", context)
    message = EmailMultiAlternatives(subject, text, to=[user.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        Invitation.objects.filter(pk=invitation_id).update(claimed_at=None)
        raise
    Invitation.objects.filter(pk=invitation_id).update(sent_at=timezone.now())
    return True


def pending_invitation_ids(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Invitations whose email has not left: lost tasks, Redis outages, a worker killed mid-send."""
    now = timezone.now()
    return list(
        Invitation.objects.claimable(now).filter(created_at__lt=now - older_than).values_list("pk", flat=True)[:5000]
    )


@transaction.atomic
def accept_invitation(*, invitation: Invitation, password: str) -> User:
    """Set the person's password; the invitation proved they own the address, so it is verified."""
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    Invitation.objects.filter(user=user, accepted_at__isnull=True).update(accepted_at=timezone.now())
    return user
