"""The admin site shows signed evidence but offers no way to change or delete it."""

from __future__ import annotations

from allauth.mfa.models import Authenticator

from accounts.models import User


def test_evidence_is_read_only_for_superusers(client, db):
    root = User.objects.create_superuser("root@school.test", "a long admin passphrase")
    Authenticator.objects.create(user=root, type=Authenticator.Type.TOTP, data={"secret": "unused"})
    client.force_login(root)
    assert client.get("/admin/curriculum/attempt/").status_code == 200
    assert client.get("/admin/curriculum/signature/add/").status_code == 403
    assert client.get("/admin/accounts/accesslog/").status_code == 200
    assert client.get("/admin/curriculum/program/").status_code == 200
