from django.urls import URLPattern, path

from certifications.views import exams

urlpatterns: list[URLPattern] = [
    path("my/certification/", exams.my_certification, name="my-certification"),
    path("my/certification/exams.ics", exams.my_calendar_ics, name="my-calendar-ics"),
    path("my/certification/calendar-feed/", exams.feed_open, name="calendar-feed-open"),
    path("my/certification/calendar-feed/revoke/", exams.feed_revoke, name="calendar-feed-revoke"),
    path("calendar/<token:token>.ics", exams.calendar_feed, name="calendar-feed"),
    path("enrollments/<int:pk>/certification/", exams.student_certification, name="student-certification"),
    path("enrollments/<int:pk>/certification/target/", exams.choose_target, name="target-track"),
    path("enrollments/<int:pk>/certification/exams/", exams.exam_book, name="exam-book"),
    path("enrollments/<int:pk>/certification/job-placement/", exams.job_placement, name="job-placement"),
    path("exam-attempts/<int:pk>/move/", exams.exam_move, name="exam-move"),
    path("exam-attempts/<int:pk>/cancel/", exams.exam_cancel, name="exam-cancel"),
    path("exam-attempts/<int:pk>/result/", exams.exam_result, name="exam-result"),
    path("credentials/<int:pk>/number/", exams.credential_number, name="credential-number"),
]
