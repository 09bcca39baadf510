"""The Celery app: settings come from Django's, under the CELERY_ prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("checkoff")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from config.request_id import connect_celery_signals  # noqa: E402  (needs the app configured first)

connect_celery_signals()
