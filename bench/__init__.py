"""`make bench`: speed figures, measured on a throwaway database of their own.

A benchmark is a function in a module of this package, registered with `@register("name", ...)`.
It gets a `Run` (how many repetitions, and the Celery broker it may queue to) and returns the
figures to print. A figure with a target passes or fails; `python -m bench` exits non-zero when any
target is missed. Adding a benchmark is adding a module here: `load()` imports every one.

    python -m bench            # every benchmark
    python -m bench roster     # one of them
    python -m bench --list
"""

from __future__ import annotations

import importlib
import pkgutil
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    """One measured number, and the target it must meet if it has one."""

    label: str
    value: float
    unit: str = ""
    # (comparison, bound): (">=", 5000) means the value must be at least 5000.
    target: tuple[str, float] | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        comparison, bound = self.target
        return {">=": self.value >= bound, "<=": self.value <= bound, "==": self.value == bound}[comparison]


@dataclass
class Run:
    """What every benchmark is given."""

    repetitions: int
    broker_url: str
    notes: list[str] = field(default_factory=list)


Benchmark = Callable[[Run], list[Figure]]


@dataclass
class Entry:
    name: str
    description: str
    function: Benchmark


BENCHMARKS: dict[str, Entry] = {}


def register(name: str, description: str) -> Callable[[Benchmark], Benchmark]:
    def decorate(function: Benchmark) -> Benchmark:
        if name in BENCHMARKS:
            raise ValueError(f"A benchmark named {name!r} is registered twice.")
        BENCHMARKS[name] = Entry(name=name, description=description, function=function)
        return function

    return decorate


def load() -> dict[str, Entry]:
    """Import every module of this package, so each registers its benchmarks: a new one is a new file."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return BENCHMARKS


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def spread(values: list[float], *, decimals: int = 0) -> str:
    """The runs behind a median, so a noisy machine shows."""
    return "runs: " + ", ".join(f"{value:,.{decimals}f}" for value in values)


@contextmanager
def test_client_host() -> Iterator[None]:
    """Django's test Client calls itself `testserver`, which the settings do not allow."""
    from django.conf import settings
    from django.test.utils import override_settings

    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        yield


def fmt(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{int(value):,}" if isinstance(value, int | float) else str(value)
