from __future__ import annotations

import logging
from collections.abc import Iterable

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts import tokens
from accounts.emails import INVITATION
from accounts.models import Invitation, User
from config import bulk
from notifications import services as notifications

logger = logging.getLogger(__name__)


@transaction.atomic
def invite(*, users: QuerySet[User], invited_by: User | None, program_id: int | None = None) -> dict[int, int]:
    """Invite everyone `users` selects and send the invitations through the outbox after commit (shown
    in `program_id`'s outbox when given); returns each person's new invitation by their id.

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
    notifications.notify_many(
        kind=INVITATION,
        occasion="sent",
        program_id=program_id,
        messages=(
            (user_id, f"invitation:{invitation_id}", {"invitation_id": invitation_id})
            for user_id, invitation_id in sorted(invited.items(), key=lambda pair: pair[1])
        ),
    )
    return invited


@transaction.atomic
def invite_users(*, users: Iterable[User], invited_by: User | None, program_id: int | None = None) -> list[Invitation]:
    """Invite these people, each whether invited before or not (see `invite`), and send the
    invitations after commit; returns their invitations in the order of `users`."""
    people = {user.pk: user for user in users}
    invited = invite(users=User.objects.filter(bulk.AnyOf("pk", people)), invited_by=invited_by, program_id=program_id)
    invitations = {invitation.user_id: invitation for invitation in Invitation.objects.filter(pk__in=invited.values())}
    for user_id, invitation in invitations.items():
        invitation.user = people[user_id]
    return [invitations[user_id] for user_id in people]


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("accounts:accept-invitation", args=[tokens.make_token(invitation.pk)])


@transaction.atomic
def accept_invitation(*, invitation: Invitation, password: str) -> User:
    """Set the person's password; the invitation proved they own the address, so it is verified."""
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    Invitation.objects.filter(user=user, accepted_at__isnull=True).update(accepted_at=timezone.now())
    return user
