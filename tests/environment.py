"""Loaded with `-p tests.environment` before Django's settings, so these defaults reach them."""

import os
import secrets

# Settings load as in development (plain HTTP, static files from the finders, the demo mailbox), as
# they always have for the suite; pytest-django turns DEBUG off for each test. Tests of what production
# gets start a process with DEBUG=0 (tests/config/test_defaults.py).
os.environ.setdefault("DEBUG", "1")
# A key of this run's own: the development key in settings is for `make run`, and processes a test
# starts (a Celery worker, a server) inherit this one, so they verify what the test signed.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

# Tests prove nothing about password hashing, and invitations are sent in-process after commit.
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("CACHE_KEY_PREFIX", f"checkoff-test-{os.getpid()}")

# Compliance documents uploaded by tests land in a throwaway folder, never in .data/private.
if "PRIVATE_MEDIA_ROOT" not in os.environ:
    import tempfile

    os.environ["PRIVATE_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="checkoff-private-")

# Under `pytest -n` (scripts/test.py) each process inherits the values above from the one that started it,
# and the processes run at once: each takes a cache prefix and a folder of its own, or one would empty the
# other's rate-limit counters and write its documents over the other's (row ids repeat across databases).
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["CACHE_KEY_PREFIX"] += f"-{worker}"
    os.environ["PRIVATE_MEDIA_ROOT"] = os.path.join(os.environ["PRIVATE_MEDIA_ROOT"], worker)
    os.makedirs(os.environ["PRIVATE_MEDIA_ROOT"], exist_ok=True)
