from django.urls import URLPattern, path

from certifications.views import tracks

urlpatterns: list[URLPattern] = [
    path("programs/<code:code>/certifications/tracks/", tracks.track_list, name="track-list"),
    path("programs/<code:code>/certifications/counted-tracks/", tracks.track_counting, name="track-counting"),
    path("programs/<code:code>/certifications/tracks/<code:track_code>/", tracks.track_detail, name="track-detail"),
    path("programs/<code:code>/certifications/tracks/<code:track_code>/edit/", tracks.track_edit, name="track-edit"),
    path(
        "programs/<code:code>/certifications/tracks/<code:track_code>/confirm/",
        tracks.track_confirm,
        name="track-confirm",
    ),
    path(
        "programs/<code:code>/certifications/tracks/<code:track_code>/domains/",
        tracks.track_domains,
        name="track-domains",
    ),
]
