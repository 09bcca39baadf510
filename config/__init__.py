from config import checks  # noqa: F401  (registers the deployment check of the database role)
from config.celery import app as celery_app

__all__ = ["celery_app"]
