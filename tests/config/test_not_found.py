"""Checkoff's own 404 page, also in development (make run), where Django would show its technical one."""

from __future__ import annotations

from django.urls import reverse


def test_a_record_not_found_in_development_is_checkoffs_page(client, irene, settings):
    settings.DEBUG = True
    client.force_login(irene)
    response = client.get(reverse("curriculum:offering-detail", args=[999_999]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no such page, or it is not yours to see." in page
    assert "Back to your home page" in page


def test_and_in_production(client, irene, settings):
    settings.DEBUG = False
    client.force_login(irene)
    response = client.get(reverse("curriculum:offering-detail", args=[999_999]))
    assert response.status_code == 404
    assert "There is no such page, or it is not yours to see." in response.content.decode()


def test_it_is_in_the_persons_language(client, irene, settings):
    settings.DEBUG = True
    irene.preferred_language = "es"
    irene.save()
    client.force_login(irene)
    response = client.get(reverse("curriculum:offering-detail", args=[999_999]))
    assert "Página no encontrada" in response.content.decode()
