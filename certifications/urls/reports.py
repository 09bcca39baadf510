from django.urls import URLPattern, path

from certifications.views import reports

urlpatterns: list[URLPattern] = [
    path("programs/<str:code>/outcomes/", reports.report, name="report"),
    path("programs/<str:code>/outcomes/students/", reports.report_students, name="report-students"),
    path("programs/<str:code>/outcomes/pass-rates/students/", reports.pass_rate_students, name="pass-rate-students"),
    path("programs/<str:code>/outcomes.csv", reports.report_csv, name="report-csv"),
    path("programs/<str:code>/outcomes.xlsx", reports.report_xlsx, name="report-xlsx"),
    path("programs/<str:code>/outcomes.pdf", reports.report_pdf, name="report-pdf"),
]
