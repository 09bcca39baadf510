from django.urls import URLPattern, path

from certifications.views import reports

urlpatterns: list[URLPattern] = [
    path("programs/<code:code>/outcomes/", reports.report, name="report"),
    path("programs/<code:code>/outcomes/students/", reports.report_students, name="report-students"),
    path("programs/<code:code>/outcomes/pass-rates/students/", reports.pass_rate_students, name="pass-rate-students"),
    path("programs/<code:code>/outcomes.csv", reports.report_csv, name="report-csv"),
    path("programs/<code:code>/outcomes.xlsx", reports.report_xlsx, name="report-xlsx"),
    path("programs/<code:code>/outcomes.pdf", reports.report_pdf, name="report-pdf"),
]
