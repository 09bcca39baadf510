from __future__ import annotations

import logging
from collections.abc import Iterable

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import single_sign_on, tokens
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


class SignInRefused(Exception):
    """Single sign-on that must not go on: `message` is for the person, `reason` for the log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message, self.reason = message, reason


@transaction.atomic
def sign_in_through_provider(
    *, request: HttpRequest, sociallogin: SocialLogin, invitation_id: int | None = None
) -> User:
    """Match a person back from the school's provider to their account and link the two.

    Nobody is created: the account must already hold an address the provider vouches for (OpenID
    Connect's email_verified, or a domain the school trusts; a SAML identity provider's signed
    assertion). Once linked, the provider's stable id finds the person even if their address changes.
    The provider proved the address, so it counts as verified and a pending invitation as accepted.
    Coming from an invitation link, the person must come back as the one invited."""
    provider = single_sign_on.display_name(sociallogin.provider)
    offered = [address.email for address in sociallogin.email_addresses]
    trusted = [address.email for address in sociallogin.email_addresses if address.verified]
    if sociallogin.is_existing:
        user = sociallogin.user
    else:
        if not offered:
            raise SignInRefused(
                _(
                    "%(provider)s did not tell Checkoff your email address, so your account cannot be found. "
                    "Ask your program for help."
                )
                % {"provider": provider},
                "no email address released",
            )
        if not trusted:
            raise SignInRefused(
                _("%(provider)s has not confirmed that %(email)s is yours. Ask your program for help.")
                % {"provider": provider, "email": offered[0]},
                f"unverified address {offered[0]}",
            )
        user = User.objects.filter(email__in=[email.lower() for email in trusted]).order_by("pk").first()
        if user is None:
            raise SignInRefused(
                _(
                    "No Checkoff account uses %(email)s. Checkoff accounts are made by your program: ask your "
                    "program director or coordinator to add you, then sign in again."
                )
                % {"email": trusted[0]},
                f"no account for {trusted[0]}",
            )
    if not user.is_active:
        raise SignInRefused(
            _("This Checkoff account is closed. Ask your program for help."), f"inactive user {user.pk}"
        )
    if invitation_id is not None:
        invited = Invitation.objects.filter(pk=invitation_id).select_related("user").first()
        if invited is not None and invited.user_id != user.pk:
            raise SignInRefused(
                _(
                    "This invitation is for %(invited)s, but %(provider)s signed you in as %(email)s. Sign in there "
                    "with the invited address, or ask your program for help."
                )
                % {"invited": invited.user.email, "provider": provider, "email": user.email},
                f"invitation {invitation_id} is for user {invited.user_id}, not {user.pk}",
            )
    if not sociallogin.is_existing:
        sociallogin.connect(request, user)
    if user.email.lower() in {email.lower() for email in trusted}:
        EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        Invitation.objects.filter(user=user, accepted_at__isnull=True).update(accepted_at=timezone.now())
    return user
