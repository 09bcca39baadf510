"""The admin site lists externship evidence but offers no way to change it."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from accounts.models import User
from externships.models import HoursEntry
from tests.externship_factories import ComplianceRecordFactory, shift


@pytest.fixture
def root(client, db):
    root = User.objects.create_superuser("root@school.test", "a long admin passphrase")
    Authenticator.objects.create(user=root, type=Authenticator.Type.TOTP, data={"secret": "unused"})
    client.force_login(root)
    return root


def test_every_list_renders(client, root, placement, alice):
    shift(placement, placement.start_on, state=HoursEntry.State.APPROVED)
    ComplianceRecordFactory(student=alice)
    for model in (
        "site",
        "compliancerequirement",
        "evaluationitem",
        "placement",
        "hoursentry",
        "evaluation",
        "compliancerecord",
    ):
        assert client.get(f"/admin/externships/{model}/").status_code == 200, model


def test_evidence_cannot_be_changed(client, root, placement, alice):
    entry = shift(placement, placement.start_on, state=HoursEntry.State.APPROVED)
    record = ComplianceRecordFactory(student=alice)
    assert client.get("/admin/externships/hoursentry/add/").status_code == 403
    assert client.post(f"/admin/externships/hoursentry/{entry.pk}/delete/").status_code == 403
    assert client.post(f"/admin/externships/placement/{placement.pk}/change/", {"state": "active"}).status_code == 403
    page = client.get(f"/admin/externships/compliancerecord/{record.pk}/change/")
    assert page.status_code == 200
    assert record.document.name not in page.content.decode()
