"""Loaded with `-p tests.environment` before Django's settings, so these defaults reach them."""

import os

# Tests prove nothing about password hashing, and invitations are sent in-process after commit.
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("CACHE_KEY_PREFIX", f"checkoff-test-{os.getpid()}")

# Compliance documents uploaded by tests land in a throwaway folder, never in .data/private.
if "PRIVATE_MEDIA_ROOT" not in os.environ:
    import tempfile

    os.environ["PRIVATE_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="checkoff-private-")
