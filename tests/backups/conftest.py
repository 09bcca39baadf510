"""The `backups` marker: `pytest -m backups` runs these alone, `-m "not backups"` leaves them out."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "backups: backs the demo up and restores it through real pg_dump and pg_restore (about a minute); "
        "run alone with `pytest -m backups`",
    )
