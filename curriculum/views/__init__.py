"""Curriculum pages, one module per part: coursework.py (programs, rosters, coursework),
checkoffs.py (performing and signing check-offs), grid.py (competency progress), records.py
(the student's record, its PDF and access log), frameworks.py (frameworks and checklists)."""
