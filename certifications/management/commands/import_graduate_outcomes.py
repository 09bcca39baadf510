from __future__ import annotations

from certifications.management.commands.import_exam_results import ResultImportCommand
from certifications.models import ResultImport


class Command(ResultImportCommand):
    help = "Import graduate outcomes (CSV or XLSX) into a program. With any bad row nothing is written."
    kind = ResultImport.Kind.GRADUATE_OUTCOMES
