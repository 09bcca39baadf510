from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CurriculumConfig(AppConfig):
    name = "curriculum"
    verbose_name = _("Curriculum")

    def ready(self) -> None:
        from curriculum import imports
        from curriculum.views import roster_imports, setup_imports

        # The kinds of import this app applies in the background (curriculum/imports.py).
        for kind in [*roster_imports.IMPORT_KINDS, *setup_imports.IMPORT_KINDS]:
            imports.register(kind)
