"""`/healthz`: does this process reach its database and Redis? For a load balancer or a monitor.

200 with {"status": "ok", ...} when both answer; 503 naming the one that did not otherwise, so the
balancer takes the process out of rotation and whoever looks sees which service to fix. Nothing is
cached (a stale "ok" hides an outage) and each check gives up within a couple of seconds.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.permissions import can_probe_health

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 2


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError as error:
        logger.warning("Health check: the database did not answer: %s", error)
        return False


def redis_answers() -> bool:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError) as error:
        logger.warning("Health check: Redis did not answer: %s", error)
        return False
    finally:
        client.close()


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    if not can_probe_health(request):
        raise PermissionDenied
    checks = {"database": database_answers(), "redis": redis_answers()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if answered else "unreachable" for name, answered in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)
