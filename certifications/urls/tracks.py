from django.urls import URLPattern, path

from certifications.views import tracks

urlpatterns: list[URLPattern] = [
    path("programs/<str:code>/certifications/tracks/", tracks.track_list, name="track-list"),
    path("programs/<str:code>/certifications/counted-tracks/", tracks.track_counting, name="track-counting"),
    path("programs/<str:code>/certifications/tracks/<str:track_code>/", tracks.track_detail, name="track-detail"),
    path("programs/<str:code>/certifications/tracks/<str:track_code>/edit/", tracks.track_edit, name="track-edit"),
    path(
        "programs/<str:code>/certifications/tracks/<str:track_code>/confirm/",
        tracks.track_confirm,
        name="track-confirm",
    ),
    path(
        "programs/<str:code>/certifications/tracks/<str:track_code>/domains/",
        tracks.track_domains,
        name="track-domains",
    ),
]
