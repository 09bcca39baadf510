"""Check-offs: scoring, signing after re-authentication, immutability, revocation and the access log."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import AccessLog
from curriculum import services
from curriculum.models import Attempt, ChecklistStep, Revocation, Signature, StepResult, score_steps
from curriculum.views import checkoffs
from tests import factories
from tests.queries import queries_for


@pytest.fixture
def competency(program):
    framework = factories.FrameworkFactory()
    program.framework = framework
    program.save()
    competency = factories.CompetencyFactory(framework=framework, code="I.P.1.a", title="blood pressure")
    for order, (text, critical) in enumerate(
        [("Hand hygiene", True), ("Identify the patient", True), ("Choose cuff size", False), ("Record", False)],
        start=1,
    ):
        ChecklistStep.objects.create(
            program=program, competency=competency, order=order, text=text, points=2 if critical else 1,
            is_critical=critical,
        )  # fmt: skip
    return competency


@contextmanager
def without_triggers():
    """What a tamperer with database superuser rights could do: write with every trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET LOCAL session_replication_role = origin")


def all_steps(program, competency) -> set[int]:
    return set(ChecklistStep.objects.filter(program=program, competency=competency).values_list("pk", flat=True))


def attempt_for(alice, irene, competency, program, *, skip: tuple[str, ...] = (), comment: str = "") -> Attempt:
    steps = ChecklistStep.objects.filter(program=program, competency=competency).exclude(text__in=skip)
    return services.record_attempt(
        enrollment=alice.enrollments.get(),
        competency=competency,
        evaluator=irene,
        performed_step_ids=set(steps.values_list("pk", flat=True)),
        setting="lab",
        comment=comment,
    )


class TestScoring:
    def test_all_steps_pass(self):
        assert score_steps([(2, True, True), (1, False, True)], 80)["passed"] is True

    def test_a_missed_critical_step_fails_whatever_the_score(self):
        result = score_steps([(1, True, False)] + [(1, False, True)] * 99, 80)
        assert (result["score"], result["critical_missed"], result["passed"]) == (Decimal("99.0"), 1, False)

    def test_a_score_below_the_passing_score_fails(self):
        result = score_steps([(2, True, True), (1, False, False), (1, False, False)], 80)
        assert (result["score"], result["passed"]) == (Decimal("50.0"), False)

    def test_the_passing_score_itself_passes(self):
        assert score_steps([(4, False, True), (1, False, False)], 80)["passed"] is True

    def test_the_competency_rule_overrides_the_programs(self, alice, irene, competency, program):
        competency.passing_score = 100
        competency.save()
        attempt = attempt_for(alice, irene, competency, program, skip=("Record",), comment="Forgot to record.")
        assert (attempt.passing_score, attempt.passed) == (100, False)


class TestRecording:
    def test_it_keeps_a_copy_of_every_step(self, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        ChecklistStep.objects.filter(competency=competency, order=1).update(text="Changed later")
        assert list(attempt.step_results.values_list("text", flat=True)) == [
            "Hand hygiene", "Identify the patient", "Choose cuff size", "Record",
        ]  # fmt: skip

    def test_a_fail_without_a_comment_is_refused(self, alice, irene, competency, program):
        with pytest.raises(ValidationError) as refusal:
            attempt_for(alice, irene, competency, program, skip=("Hand hygiene",))
        assert "comment" in refusal.value.error_dict
        assert not Attempt.objects.exists()

    def test_a_student_cannot_evaluate_themselves(self, alice, competency, program):
        with pytest.raises(ValidationError):
            attempt_for(alice, alice, competency, program)

    def test_steps_of_another_checklist_are_refused(self, alice, irene, competency, program):
        with pytest.raises(ValidationError):
            services.record_attempt(
                enrollment=alice.enrollments.get(), competency=competency, evaluator=irene,
                performed_step_ids={999999}, setting="lab",
            )  # fmt: skip


class TestSigning:
    def test_the_evaluator_signs_and_the_digest_holds(self, alice, irene, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        signature = Signature.objects.select_related("attempt__enrollment", "attempt__competency").get(pk=signature.pk)
        assert signature.meaning == "performed and evaluated by"
        assert signature.is_intact()

    def test_signing_twice_is_refused(self, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        services.sign_attempt(attempt=attempt, signer=irene)
        with pytest.raises(ValidationError):
            services.sign_attempt(attempt=attempt, signer=irene)

    def test_nobody_signs_for_another_person(self, alice, irene, competency, program, dana):
        with pytest.raises(ValidationError):
            services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=dana)

    def test_signing_is_logged_for_the_student(self, alice, irene, competency, program):
        services.sign_attempt(
            attempt=attempt_for(alice, irene, competency, program),
            signer=irene,
            request_meta={"REMOTE_ADDR": "10.0.0.7", "HTTP_USER_AGENT": "Tablet"},
        )
        entry = AccessLog.objects.get(student=alice)
        assert (entry.actor, entry.action, entry.ip_address, entry.user_agent) == (irene, "sign", "10.0.0.7", "Tablet")

    def test_a_changed_attempt_no_longer_matches_its_digest(self, alice, irene, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        with without_triggers() as cursor:
            cursor.execute("UPDATE curriculum_attempt SET score = 99.9 WHERE id = %s", [signature.attempt_id])
        assert not Signature.objects.get(pk=signature.pk).is_intact()

    def test_a_changed_step_result_no_longer_matches_its_digest(self, alice, irene, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        with without_triggers() as cursor:
            cursor.execute(
                'UPDATE curriculum_stepresult SET performed = false WHERE attempt_id = %s AND "order" = 1',
                [signature.attempt_id],
            )
        assert not Signature.objects.get(pk=signature.pk).is_intact()

    def test_a_signature_moved_to_another_attempt_no_longer_matches(self, alice, irene, competency, program):
        first = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        second = attempt_for(alice, irene, competency, program)
        with without_triggers() as cursor:
            cursor.execute("UPDATE curriculum_signature SET attempt_id = %s WHERE id = %s", [second.pk, first.pk])
        assert not Signature.objects.get(pk=first.pk).is_intact()


class TestImmutability:
    @pytest.fixture
    def signed(self, alice, irene, competency, program) -> Signature:
        return services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE curriculum_attempt SET passed = false, comment = 'x' WHERE id = {attempt}",
            "DELETE FROM curriculum_attempt WHERE id = {attempt}",
            "UPDATE curriculum_stepresult SET performed = false WHERE attempt_id = {attempt}",
            "DELETE FROM curriculum_stepresult WHERE attempt_id = {attempt}",
            'INSERT INTO curriculum_stepresult (attempt_id, "order", text, points, is_critical, performed) '
            "VALUES ({attempt}, 99, 'added', 1, false, true)",
            "UPDATE curriculum_signature SET signed_at = now() WHERE id = {signature}",
            "DELETE FROM curriculum_signature WHERE id = {signature}",
        ],
    )
    def test_raw_sql_cannot_change_a_signed_attempt(self, signed, statement):
        with pytest.raises(IntegrityError, match="signed"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(attempt=signed.attempt_id, signature=signed.pk))

    @pytest.mark.parametrize(
        "table", ["curriculum_attempt", "curriculum_stepresult", "curriculum_signature", "curriculum_revocation"]
    )
    def test_it_refuses_to_truncate_signed_records(self, signed, table):
        with pytest.raises(IntegrityError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending foreign-key checks first
            cursor.execute(f"TRUNCATE {table} CASCADE")
        assert Signature.objects.filter(pk=signed.pk).exists()

    def test_an_empty_temporary_table_of_the_same_name_does_not_blind_the_triggers(self, signed):
        # pg_temp comes first on a caller's search_path; the functions pin theirs to their own schema.
        with pytest.raises(IntegrityError, match="signed"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE curriculum_signature (attempt_id bigint) ON COMMIT DROP")
            cursor.execute("UPDATE curriculum_attempt SET comment = 'changed' WHERE id = %s", [signed.attempt_id])

    def test_every_trigger_function_pins_its_search_path(self, db):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT proname FROM pg_proc WHERE proname LIKE 'checkoff\\_%%' AND NOT EXISTS "
                "(SELECT 1 FROM unnest(proconfig) AS setting WHERE setting LIKE 'search_path=%%pg_temp')"
            )
            assert cursor.fetchall() == []
            cursor.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'checkoff\\_%%'")
            assert cursor.fetchone()[0] >= 9

    def test_an_unsigned_draft_may_still_be_discarded(self, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        services.discard_attempt(attempt=attempt, by=irene)
        assert not Attempt.objects.exists()
        assert not StepResult.objects.exists()

    def test_the_access_log_cannot_be_edited(self, signed):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_accesslog")


class TestRevocation:
    def test_revoking_keeps_the_original(self, alice, irene, dana, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        services.revoke_signature(signature=signature, revoked_by=dana, reason="Wrong student on the tablet.")
        signature.refresh_from_db()
        assert signature.revocation.reason == "Wrong student on the tablet."
        assert Attempt.objects.standing().count() == 0
        assert Attempt.objects.signed().count() == 1
        assert AccessLog.objects.filter(action="revoke", actor=dana, student=alice).exists()

    def test_a_reason_is_required(self, alice, irene, dana, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        with pytest.raises(ValidationError):
            services.revoke_signature(signature=signature, revoked_by=dana, reason="  ")
        assert not Revocation.objects.exists()

    def test_a_revocation_cannot_be_edited(self, alice, irene, dana, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        revocation = services.revoke_signature(signature=signature, revoked_by=dana, reason="Wrong student.")
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM curriculum_revocation WHERE id = %s", [revocation.pk])


@pytest.mark.django_db(transaction=True)
def test_two_sign_requests_at_once_make_exactly_one_signature(alice, irene, competency, program):
    attempt = attempt_for(alice, irene, competency, program)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign() -> None:
        barrier.wait()
        try:
            services.sign_attempt(attempt=attempt, signer=irene)
            outcomes.append("signed")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "signed"]
    assert Signature.objects.filter(attempt=attempt).count() == 1


class TestViews:
    def checkoff_url(self, alice, competency):
        return reverse("curriculum:checkoff-new", args=[alice.enrollments.get().pk, competency.pk])

    def test_the_instructor_fills_the_checklist_and_lands_on_the_review(
        self, client, alice, irene, competency, program
    ):
        client.force_login(irene)
        steps = sorted(all_steps(program, competency))
        response = client.post(self.checkoff_url(alice, competency), {"steps": steps, "setting": "simulation"})
        attempt = Attempt.objects.get()
        assert response.url == reverse("curriculum:attempt-detail", args=[attempt.pk])
        assert (attempt.passed, attempt.setting, attempt.evaluator) == (True, "simulation", irene)

    def test_a_signature_that_does_not_verify_is_not_shown_as_signed(self, client, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        services.sign_attempt(attempt=attempt, signer=irene)
        with without_triggers() as cursor:
            cursor.execute(
                'UPDATE curriculum_stepresult SET performed = false WHERE attempt_id = %s AND "order" = 4', [attempt.pk]
            )
        client.force_login(irene)
        detail = client.get(reverse("curriculum:attempt-detail", args=[attempt.pk])).content.decode()
        assert "Signature does not verify" in detail and "Signed: performed" not in detail
        checklist = client.get(self.checkoff_url(alice, competency)).content.decode()
        assert "Signature does not verify" in checklist and "signed by" not in checklist

    def test_a_fail_without_comment_shows_the_error_on_the_comment(self, client, alice, irene, competency, program):
        client.force_login(irene)
        response = client.post(self.checkoff_url(alice, competency), {"steps": [], "setting": "lab"})
        assert response.status_code == 200
        assert "comment" in response.context["form"].errors
        assert not Attempt.objects.exists()

    def test_another_cohorts_instructor_gets_404(self, client, alice, ivan, competency):
        client.force_login(ivan)
        assert client.get(self.checkoff_url(alice, competency)).status_code == 404

    def test_a_student_may_not_evaluate(self, client, alice, competency):
        client.force_login(alice)
        assert client.get(self.checkoff_url(alice, competency)).status_code == 403

    def test_a_classmate_gets_404(self, client, alice, bob, competency):
        client.force_login(bob)
        assert client.get(self.checkoff_url(alice, competency)).status_code == 404

    def test_checkoff_rejects_put(self, client, alice, irene, competency):
        client.force_login(irene)
        assert client.put(self.checkoff_url(alice, competency)).status_code == 405

    def test_signing_asks_for_the_password_first_and_then_signs(self, client, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(irene)
        response = client.post(reverse("curriculum:attempt-sign", args=[attempt.pk]))
        assert response.url.startswith(reverse("account_reauthenticate"))
        assert not Signature.objects.exists()
        client.post(response.url, {"password": factories.PASSWORD}, follow=True)
        assert Signature.objects.filter(attempt=attempt, signer=irene).exists()

    def test_with_a_fresh_password_signing_is_immediate(self, client, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(irene)
        client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
        response = client.post(reverse("curriculum:attempt-sign", args=[attempt.pk]))
        assert response.url == reverse("curriculum:attempt-detail", args=[attempt.pk])
        assert Signature.objects.filter(attempt=attempt).exists()

    def test_a_director_who_did_not_evaluate_may_not_sign(self, client, alice, irene, dana, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(dana)
        client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
        assert client.post(reverse("curriculum:attempt-sign", args=[attempt.pk])).status_code == 403

    def test_the_student_sees_their_attempt_but_may_not_sign_it(self, client, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(alice)
        assert client.get(reverse("curriculum:attempt-detail", args=[attempt.pk])).status_code == 200
        client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
        assert client.post(reverse("curriculum:attempt-sign", args=[attempt.pk])).status_code == 403

    def test_a_classmate_cannot_see_the_attempt(self, client, alice, bob, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(bob)
        assert client.get(reverse("curriculum:attempt-detail", args=[attempt.pk])).status_code == 404

    def test_sign_rejects_get(self, client, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(irene)
        assert client.get(reverse("curriculum:attempt-sign", args=[attempt.pk])).status_code == 405

    def test_staff_viewing_an_attempt_is_logged_and_the_student_viewing_is_not(
        self, client, alice, irene, competency, program
    ):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(irene)
        client.get(reverse("curriculum:attempt-detail", args=[attempt.pk]))
        client.force_login(alice)
        client.get(reverse("curriculum:attempt-detail", args=[attempt.pk]))
        assert list(AccessLog.objects.values_list("actor", "action")) == [(irene.pk, "view")]

    def test_the_director_revokes_with_a_reason(self, client, alice, irene, dana, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        client.force_login(dana)
        url = reverse("curriculum:attempt-revoke", args=[signature.attempt_id])
        client.post(url, {"reason": "Recorded on the wrong student."})
        assert Revocation.objects.filter(signature=signature, revoked_by=dana).exists()
        page = client.get(reverse("curriculum:attempt-detail", args=[signature.attempt_id])).content.decode()
        assert "Signature revoked" in page and "Recorded on the wrong student." in page

    def test_an_instructor_may_not_revoke(self, client, alice, irene, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        client.force_login(irene)
        url = reverse("curriculum:attempt-revoke", args=[signature.attempt_id])
        assert client.post(url, {"reason": "x"}).status_code == 403

    def test_revoke_rejects_get(self, client, alice, irene, dana, competency, program):
        signature = services.sign_attempt(attempt=attempt_for(alice, irene, competency, program), signer=irene)
        client.force_login(dana)
        assert client.get(reverse("curriculum:attempt-revoke", args=[signature.attempt_id])).status_code == 405

    def test_the_pick_page_leads_to_the_checklist(self, client, alice, irene, cohort, competency):
        client.force_login(irene)
        url = reverse("curriculum:checkoff-pick", args=[cohort.pk])
        assert competency.code in client.get(url).content.decode()
        response = client.get(url, {"enrollment": alice.enrollments.get().pk, "competency": competency.pk})
        assert response.url == self.checkoff_url(alice, competency)

    def test_the_pick_page_is_for_the_cohorts_instructors(self, client, carlos, ivan, cohort):
        client.force_login(carlos)
        assert client.get(reverse("curriculum:checkoff-pick", args=[cohort.pk])).status_code == 403
        client.force_login(ivan)
        assert client.get(reverse("curriculum:checkoff-pick", args=[cohort.pk])).status_code == 404

    def test_discard_removes_the_draft(self, client, alice, irene, competency, program):
        attempt = attempt_for(alice, irene, competency, program)
        client.force_login(irene)
        client.post(reverse("curriculum:attempt-discard", args=[attempt.pk]))
        assert not Attempt.objects.exists()


class TestChecklistPage:
    """What the checklist says before anything is marked, and before a new attempt at a competency."""

    def checkoff_url(self, alice, competency, query: str = "") -> str:
        url = reverse("curriculum:checkoff-new", args=[alice.enrollments.get().pk, competency.pk])
        return f"{url}?{query}" if query else url

    def score_card(self, page: str) -> str:
        return page.split('id="running-score"', 1)[1].split("</div>\n  </div>", 1)[0]

    def test_it_opens_calm_with_nothing_scored_and_nothing_missed(self, client, alice, irene, competency):
        client.force_login(irene)
        page = client.get(self.checkoff_url(alice, competency)).content.decode()
        card = self.score_card(page)
        assert "<span data-verdict>Not scored yet</span> — <span data-progress>0 of 4 steps marked</span>" in card
        assert '<span class="fs-4 fw-semibold" data-score>—</span>' in card
        assert "text-danger" not in card and "Not passing" not in card
        assert '<div class="alert alert-danger d-none" tabindex="-1" data-critical-missed>' in page
        assert 'name="missed"' in page and "checked" not in page.split("<ol", 1)[1].split("</ol>", 1)[0]
        assert 'id="attempt-notice"' not in page  # a first attempt needs no notice

    def test_an_achieved_competency_says_so_before_a_new_attempt_starts(self, client, alice, irene, competency):
        factories.check_off(alice.enrollments.get(), competency, irene)
        client.force_login(irene)
        page = client.get(self.checkoff_url(alice, competency)).content.decode()
        assert re.search(
            r"Alice achieved this on [A-Z][^<]*\d{4}\. Starting records a new attempt, attempt 2; the achieved one "
            r"stays\.",
            page,
        )
        assert 'id="checkoff-form"' not in page
        assert f'href="?{checkoffs.START_NEW_ATTEMPT}"' in page
        started = client.get(self.checkoff_url(alice, competency, checkoffs.START_NEW_ATTEMPT)).content.decode()
        assert 'id="checkoff-form"' in started
        assert "This checklist records a new attempt, attempt 2; the achieved one stays on the record" in started
        assert Attempt.objects.count() == 1  # opening it, or starting, records nothing

    def test_earlier_attempts_make_this_attempt_n(self, client, alice, irene, competency):
        enrollment = alice.enrollments.get()
        factories.check_off(enrollment, competency, irene, passed=False)
        factories.check_off(enrollment, competency, irene, passed=False)
        factories.check_off(enrollment, competency, irene, signed=False)  # a draft is no attempt made
        client.force_login(irene)
        page = client.get(self.checkoff_url(alice, competency)).content.decode()
        assert "This is attempt 3: Alice has 2 earlier signed attempts at this competency, listed below." in page
        assert 'id="checkoff-form"' in page

    def test_a_revoked_pass_is_not_achieved_but_still_an_attempt(self, client, alice, irene, dana, competency):
        attempt = factories.check_off(alice.enrollments.get(), competency, irene)
        services.revoke_signature(signature=attempt.signature, revoked_by=dana, reason="Wrong student.")
        client.force_login(irene)
        page = client.get(self.checkoff_url(alice, competency)).content.decode()
        assert "achieved this on" not in page
        assert "This is attempt 2: Alice has 1 earlier signed attempt at this competency, listed below." in page

    def test_steps_marked_missed_change_nothing_the_service_records(self, client, alice, irene, competency, program):
        """Missed is the page's own state: the attempt is scored and saved from the performed steps, as ever."""
        steps = {step.text: step.pk for step in ChecklistStep.objects.filter(competency=competency)}
        performed = [steps["Identify the patient"], steps["Choose cuff size"], steps["Record"]]
        client.force_login(irene)
        response = client.post(
            self.checkoff_url(alice, competency),
            {"steps": performed, "missed": [steps["Hand hygiene"], steps["Record"]], "setting": "lab",
             "comment": "Practise hand hygiene."},
        )  # fmt: skip
        attempt = Attempt.objects.get()
        assert response.url == reverse("curriculum:attempt-detail", args=[attempt.pk])
        assert dict(attempt.step_results.values_list("text", "performed")) == {
            "Hand hygiene": False, "Identify the patient": True, "Choose cuff size": True, "Record": True,
        }  # fmt: skip
        assert (attempt.critical_missed, attempt.passed) == (1, False)
        assert not Signature.objects.exists()

    def test_a_refused_form_comes_back_as_it_was_marked(self, client, alice, irene, competency):
        steps = {step.text: step.pk for step in ChecklistStep.objects.filter(competency=competency)}
        client.force_login(irene)
        page = client.post(
            self.checkoff_url(alice, competency),
            {"steps": [steps["Identify the patient"]], "missed": [steps["Hand hygiene"]], "setting": "lab"},
        ).content.decode()
        assert 'data-submitted="1"' in page
        assert re.search(rf'name="missed" value="{steps["Hand hygiene"]}" id="missed-\d+"\s+checked', page)
        assert re.search(rf'name="steps" value="{steps["Identify the patient"]}"[^>]*\s+checked', page)
        assert not re.search(rf'name="missed" value="{steps["Record"]}" id="missed-\d+"\s+checked', page)

    def test_its_query_count_stays_the_same_as_attempts_grow(self, client, alice, irene, competency):
        enrollment = alice.enrollments.get()
        factories.check_off(enrollment, competency, irene, passed=False)
        url = self.checkoff_url(alice, competency)
        once = queries_for(client, irene, url)
        for _ in range(4):
            factories.check_off(enrollment, competency, irene, passed=False)
        assert queries_for(client, irene, url) == once == CHECKLIST_QUERIES


# Session, user and their programs' two-factor rule; the enrollment, the competency and whether she
# teaches the cohort; the access log's entry (a savepoint, the chain's head read and moved, the row, the
# release); the steps; the earlier attempts, their step results and the signatures' chain; the attempt
# history (one aggregate); the navigation bar's roles.
CHECKLIST_QUERIES = 17
