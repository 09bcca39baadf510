"""Single sign-on settings: the school's identity providers from the environment.

A school connects one OpenID Connect provider (Microsoft Entra ID, Google Workspace, Okta…) and/or
one SAML 2.0 identity provider (Shibboleth, ADFS, Entra ID's SAML apps…). Each comes either from the
environment (`SSO_*` variables, read here into allauth's SOCIALACCOUNT_PROVIDERS) or from the admin's
"Social applications" (provider "OpenID Connect" with provider id `school`, or "SAML" with client id
`school`); the README's "Single sign-on" section lists the values each identity provider asks for.

This module is read by the settings, so it imports nothing from Django's models; what happens when a
person comes back from the provider is in accounts/single_sign_on.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The provider id (OpenID Connect) and organisation slug (SAML) of the school's provider: they name
# the addresses an identity provider is given, e.g. /accounts/oidc/school/login/callback/.
SLUG = "school"

OIDC = "openid_connect"
SAML = "saml"
PROVIDERS = (OIDC, SAML)

STAFF_SIGN_IN_CHOICES = ("any", "provider_or_two_factor")

# Where SAML identity providers put a person's address, name and stable id: the OIDs of the
# eduPerson/inetOrgPerson schema (Shibboleth, most universities), and the claim URIs of ADFS and
# Entra ID. A school whose provider uses other names sets SSO_SAML_EMAIL_ATTRIBUTE.
SAML_ATTRIBUTES = {
    "uid": [
        "urn:oasis:names:tc:SAML:attribute:subject-id",
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",  # eduPersonPrincipalName
        "http://schemas.microsoft.com/identity/claims/objectidentifier",
    ],
    "email": [
        "urn:oid:0.9.2342.19200300.100.1.3",  # mail
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "email",
        "mail",
    ],
    "first_name": [
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "givenName",
    ],
    "last_name": [
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "sn",
    ],
}


def _words(value: str) -> list[str]:
    return [word.strip().lower() for word in value.split(",") if word.strip()]


def _certificate_body(value: str) -> str:
    """python3-saml wants the certificate's base64 body on one line; administrators paste PEM."""
    lines = [line.strip() for line in value.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """What is wrong with the SSO_* variables, one sentence each, for the settings' start-up check."""
    problems: list[str] = []
    oidc = [environ.get(name, "") for name in ("SSO_OIDC_SERVER_URL", "SSO_OIDC_CLIENT_ID", "SSO_OIDC_CLIENT_SECRET")]
    if any(oidc) and not all(oidc):
        problems.append(
            "OpenID Connect sign-in needs all of SSO_OIDC_SERVER_URL, SSO_OIDC_CLIENT_ID and SSO_OIDC_CLIENT_SECRET."
        )
    if oidc[0] and not oidc[0].startswith(("https://", "http://")):
        problems.append("SSO_OIDC_SERVER_URL must be the provider's issuer address, starting with https://.")
    saml_names = ("SSO_SAML_ENTITY_ID", "SSO_SAML_METADATA_URL", "SSO_SAML_SSO_URL", "SSO_SAML_CERTIFICATE")
    if any(environ.get(name) for name in saml_names):
        if not environ.get("SSO_SAML_ENTITY_ID"):
            problems.append("SAML sign-in needs SSO_SAML_ENTITY_ID, the identity provider's entity id.")
        if not environ.get("SSO_SAML_METADATA_URL") and not (
            environ.get("SSO_SAML_SSO_URL") and environ.get("SSO_SAML_CERTIFICATE")
        ):
            problems.append(
                "SAML sign-in needs SSO_SAML_METADATA_URL, or both SSO_SAML_SSO_URL and SSO_SAML_CERTIFICATE."
            )
    policy = environ.get("STAFF_SIGN_IN", "any")
    if policy not in STAFF_SIGN_IN_CHOICES:
        problems.append(f"STAFF_SIGN_IN must be one of {', '.join(STAFF_SIGN_IN_CHOICES)}, not {policy!r}.")
    return problems


def providers_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """allauth's SOCIALACCOUNT_PROVIDERS for the SSO_* variables that are set (none: no provider)."""
    providers: dict[str, Any] = {}
    if environ.get("SSO_OIDC_SERVER_URL") and environ.get("SSO_OIDC_CLIENT_ID"):
        oidc_settings: dict[str, Any] = {"server_url": environ["SSO_OIDC_SERVER_URL"].rstrip("/")}
        if trusted := _words(environ.get("SSO_OIDC_TRUSTED_EMAIL_DOMAINS", "")):
            # Entra ID sends no email_verified claim: the school names the domains it vouches for.
            oidc_settings["verified_email"] = trusted
        providers[OIDC] = {
            "APPS": [
                {
                    "provider_id": SLUG,
                    "name": environ.get("SSO_OIDC_NAME", ""),
                    "client_id": environ["SSO_OIDC_CLIENT_ID"],
                    "secret": environ.get("SSO_OIDC_CLIENT_SECRET", ""),
                    "settings": oidc_settings,
                }
            ],
            "SCOPE": ["openid", "email", "profile"],
        }
    if environ.get("SSO_SAML_ENTITY_ID") and (environ.get("SSO_SAML_METADATA_URL") or environ.get("SSO_SAML_SSO_URL")):
        idp: dict[str, Any] = {"entity_id": environ["SSO_SAML_ENTITY_ID"]}
        if environ.get("SSO_SAML_METADATA_URL"):
            idp["metadata_url"] = environ["SSO_SAML_METADATA_URL"]
        else:
            idp["sso_url"] = environ["SSO_SAML_SSO_URL"]
            idp["x509cert"] = _certificate_body(environ.get("SSO_SAML_CERTIFICATE", ""))
        attributes = {name: list(uris) for name, uris in SAML_ATTRIBUTES.items()}
        if email_attribute := environ.get("SSO_SAML_EMAIL_ATTRIBUTE"):
            attributes["email"].insert(0, email_attribute)
        saml_settings: dict[str, Any] = {
            "idp": idp,
            "attribute_mapping": attributes,
            # The school's signed assertion vouches for its people's addresses, or only its own domains'.
            "verified_email": _words(environ.get("SSO_SAML_TRUSTED_EMAIL_DOMAINS", "")) or True,
            "use_nameid_for_email": environ.get("SSO_SAML_NAMEID_IS_EMAIL", "").lower() in {"1", "true", "yes"},
            "advanced": {"strict": True, "reject_idp_initiated_sso": True, "want_attribute_statement": False},
        }
        if sp_entity_id := environ.get("SSO_SAML_SP_ENTITY_ID"):
            saml_settings["sp"] = {"entity_id": sp_entity_id}
        providers[SAML] = {
            "APPS": [{"client_id": SLUG, "name": environ.get("SSO_SAML_NAME", ""), "settings": saml_settings}]
        }
    return providers
