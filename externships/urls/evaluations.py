from django.urls import URLPattern, path

from externships.views import evaluations

urlpatterns: list[URLPattern] = [
    path("placements/<int:pk>/evaluations/<str:kind>/", evaluations.evaluation_new, name="evaluation-new"),
    path("evaluations/<int:pk>/", evaluations.evaluation_detail, name="evaluation-detail"),
    path("programs/<code:code>/evaluation-forms/<str:kind>/", evaluations.evaluation_items, name="evaluation-items"),
]
