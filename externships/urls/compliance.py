from django.urls import path

from externships.views import compliance as views

urlpatterns = [
    path("my/compliance/", views.my_compliance, name="my-compliance"),
    path("enrollments/<int:pk>/compliance/", views.student_compliance, name="student-compliance"),
    path("compliance/records/<int:pk>/document/", views.compliance_document, name="compliance-document"),
    path("compliance/records/<int:pk>/approve/", views.compliance_approve, name="compliance-approve"),
    path("compliance/records/<int:pk>/reject/", views.compliance_reject, name="compliance-reject"),
    path("programs/<code:code>/compliance/review/", views.compliance_review, name="compliance-review"),
    path("programs/<code:code>/compliance/requirements/", views.requirement_list, name="requirement-list"),
    path("programs/<code:code>/compliance/requirements/new/", views.requirement_create, name="requirement-create"),
    path("compliance/requirements/<int:pk>/edit/", views.requirement_edit, name="requirement-edit"),
]
