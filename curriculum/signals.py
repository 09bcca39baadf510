"""Signals curriculum sends so that the apps built on it can join in, without curriculum importing them.

Apps depend on curriculum, never the other way round (README.md, "Layout"): an app that needs to act when
curriculum does connects a receiver in its AppConfig.ready().
"""

from django.dispatch import Signal

# Sent by `manage.py seed_demo` inside its transaction, once the demo program exists, so that each
# app adds its part of the demo from its demo.py, which seed_demo imports first (no other process
# does). A receiver that raises undoes the whole demo. Keyword arguments:
# program; cohorts (oldest first); director, coordinator, instructor and student (the demo accounts);
# password (the demo password, hashed once for every demo account) and domain (of the demo addresses).
demo_seeded = Signal()
