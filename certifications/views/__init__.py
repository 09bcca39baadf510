"""Certification pages, one module per part. What several parts need to look up lives in
curriculum.views (program_for), shared with the program's other pages."""

from __future__ import annotations

from curriculum.views import program_for

__all__ = ["program_for"]
