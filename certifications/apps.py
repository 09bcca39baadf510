from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationsConfig(AppConfig):
    name = "certifications"
    verbose_name = _("Certifications and outcomes")

    def ready(self) -> None:
        from certifications import signals  # noqa: F401  (a new program gets its certification tracks)
        from certifications.home import staff_section, student_section
        from curriculum import home

        home.register(student_section)
        home.register(staff_section)

        from certifications.views.imports import IMPORT_KINDS
        from curriculum import imports

        for kind in IMPORT_KINDS:  # applied in the background by curriculum/imports.py
            imports.register(kind)
