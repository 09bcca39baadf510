from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExternshipsConfig(AppConfig):
    name = "externships"
    verbose_name = _("Externships")

    def ready(self) -> None:
        from curriculum import home, progress
        from externships import signals  # noqa: F401  (a new program gets its requirements and forms)
        from externships.home import preceptor_section, staff_section, student_section
        from externships.readiness import practicum_start

        home.register(preceptor_section)
        home.register(student_section)
        home.register(staff_section)
        progress.register_practicum_start(practicum_start)
