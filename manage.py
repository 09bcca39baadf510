#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings, which check the environment)
    except ImproperlyConfigured as error:
        # What the environment lacks, said plainly to whoever is setting up the server, not as a traceback.
        sys.exit(str(error))

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
