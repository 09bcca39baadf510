"""Who may do what with accounts and sign-in. Every view in accounts/ asks here."""

from __future__ import annotations

from allauth.socialaccount.providers.base import Provider

from accounts.models import User


def can_reauthenticate_with_provider(user: User, provider: Provider | None) -> bool:
    """Only someone linked to one of the school's providers confirms their presence there: for
    anyone else the provider could vouch only for whoever it signed in, not for this account."""
    return user.is_authenticated and provider is not None
