"""Sections other apps add to the home page, without curriculum importing them.

An app registers a function in its AppConfig.ready(); the function gets the request and returns
a `Section` (a template and its context) or None when the person has nothing there. Apps depend
on curriculum, never the other way round (README.md, "Layout"), so the home page asks this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts.http import AuthenticatedRequest


@dataclass(frozen=True)
class Section:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


SectionFunction = Callable[[AuthenticatedRequest], "Section | None"]
_registered: list[SectionFunction] = []


def register(function: SectionFunction) -> SectionFunction:
    if function not in _registered:
        _registered.append(function)
    return function


def sections(request: AuthenticatedRequest) -> list[Section]:
    return [section for function in _registered if (section := function(request)) is not None]
