from django.urls import path

from externships.views import sites as views

urlpatterns = [
    path("programs/<code:code>/sites/", views.site_list, name="site-list"),
    path("programs/<code:code>/sites/new/", views.site_create, name="site-create"),
    path("sites/<int:pk>/", views.site_detail, name="site-detail"),
    path("sites/<int:pk>/edit/", views.site_edit, name="site-edit"),
    path("sites/<int:pk>/preceptors/add/", views.preceptor_add, name="preceptor-add"),
    path("preceptors/<int:pk>/edit/", views.preceptor_edit, name="preceptor-edit"),
    path("preceptors/<int:pk>/deactivate/", views.preceptor_deactivate, name="preceptor-deactivate"),
    path("preceptors/<int:pk>/reactivate/", views.preceptor_reactivate, name="preceptor-reactivate"),
    path("preceptors/<int:pk>/welcome/", views.preceptor_welcome, name="preceptor-welcome"),
]
