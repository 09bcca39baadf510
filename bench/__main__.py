"""Run the benchmarks on a database of their own, print a table, exit 1 if a target is missed.

The database (`bench_checkoff`, or BENCH_DATABASE_NAME) is created and migrated on the server in
DATABASE_URL, and dropped again at the end. Celery tasks are queued, never run: they go to a private
Redis database index (BENCH_REDIS_DB, 15 unless set) and are purged afterwards, so no worker sends
the mail of thousands of made-up students.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from bench import BENCHMARKS, Figure, Run, fmt, load


def _private_broker_url(redis_url: str, database: int) -> str:
    parts = urlsplit(redis_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Checkoff's speed figures.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timing; the median is reported")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def _print_table(title: str, figures: list[Figure]) -> None:
    rows = [
        (
            figure.label,
            fmt(figure.value),
            figure.unit,
            "" if figure.target is None else f"{figure.target[0]} {fmt(figure.target[1])}",
            {None: "", True: "ok", False: "MISSED"}[figure.passed],
            figure.note,
        )
        for figure in figures
    ]
    header = ("measure", "value", "unit", "target", "", "note")
    widths = [max(len(str(row[index])) for row in [header, *rows]) for index in range(len(header))]
    line = "  ".join("-" * width for width in widths)
    print(f"\n{title}")
    print(line)
    for number, row in enumerate([header, *rows]):
        cells = [
            str(cell).rjust(width) if index == 1 else str(cell).ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if number == 0:
            print(line)
    print(line)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    # Queue, never run: a bench must not send mail, and the enqueue itself is part of what is measured.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Settings load as in development (plain HTTP for the test Client, static files from the finders);
    # DEBUG goes off below. The run signs with a key of its own, which the workers it starts share.
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

    import django

    django.setup()

    from django.conf import settings
    from django.db import connection

    from config.celery import app as celery_app

    load()
    if arguments.list:
        for entry in BENCHMARKS.values():
            print(f"{entry.name:12} {entry.description}")
        return 0
    unknown = [name for name in arguments.names if name not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark: {', '.join(unknown)}. Known: {', '.join(BENCHMARKS)}.", file=sys.stderr)
        return 2
    selected = [BENCHMARKS[name] for name in (arguments.names or list(BENCHMARKS))]

    broker_url = _private_broker_url(settings.REDIS_URL, int(os.environ.get("BENCH_REDIS_DB", "15")))
    celery_app.conf.update(broker_url=broker_url, task_always_eager=False)
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1)
    except Exception as error:
        print(f"The Celery broker at {broker_url} is not reachable ({error}).", file=sys.stderr)
        print("Enqueueing is part of every import; start Redis or set REDIS_URL.", file=sys.stderr)
        return 2

    # Production runs with DEBUG off: no query log kept in memory. Query counts use their own capture.
    settings.DEBUG = False
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": os.environ.get("BENCH_DATABASE_NAME", "bench_checkoff"),
    }
    started = time.perf_counter()
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(
        f"Checkoff bench on {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; database {connection.settings_dict['NAME']} "
        f"(created and migrated in {time.perf_counter() - started:.1f} s); broker {broker_url}; "
        f"median of {arguments.runs} runs."
    )
    failed: list[str] = []
    try:
        for entry in selected:
            run = Run(repetitions=arguments.runs, broker_url=broker_url)
            figures = entry.function(run)
            _print_table(f"{entry.name}: {entry.description}", figures)
            for note in run.notes:
                print(f"  {note}")
            failed += [f"{entry.name}: {figure.label}" for figure in figures if figure.passed is False]
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
    if failed:
        print("\nMissed targets:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    print("\nEvery target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
