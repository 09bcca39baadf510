from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CurriculumConfig(AppConfig):
    name = "curriculum"
    verbose_name = _("Curriculum")

    def ready(self) -> None:
        from curriculum import home, imports
        from curriculum.views import roster_imports, setup_imports

        # The kinds of import this app applies in the background (curriculum/imports.py).
        for kind in [*roster_imports.IMPORT_KINDS, *setup_imports.IMPORT_KINDS]:
            imports.register(kind)

        # The home page's own sections (curriculum/home.py); other apps add theirs in their ready().
        for section in (
            home.instructor_section,
            home.student_section,
            home.student_courses_section,
            home.failed_reminders_section,
        ):
            home.register(section)
