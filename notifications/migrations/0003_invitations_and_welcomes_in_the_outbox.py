"""Invitations and preceptor welcomes not yet sent under the old design move into the outbox, to be
sent by the one sender; the next migrations of accounts and externships drop their own claim fields.
Frozen SQL: it calls no application code."""

from django.db import migrations

MOVE = """
SET CONSTRAINTS ALL IMMEDIATE;

INSERT INTO notifications_message
    (recipient_id, kind, subject, occasion, program_id, due_at, next_attempt_at, context, url, state, channel,
     attempts, last_error, created_at)
SELECT invitation.user_id, 'invitation', 'invitation:' || invitation.id, 'sent', NULL, invitation.created_at, now(),
       jsonb_build_object('invitation_id', invitation.id), '', 'pending', '', 0, '', now()
FROM accounts_invitation AS invitation
WHERE invitation.sent_at IS NULL AND invitation.accepted_at IS NULL
ON CONFLICT DO NOTHING;

INSERT INTO notifications_message
    (recipient_id, kind, subject, occasion, program_id, due_at, next_attempt_at, context, url, state, channel,
     attempts, last_error, created_at)
SELECT preceptor.user_id, 'preceptor_welcome', 'preceptor:' || preceptor.id, preceptor.welcome_due_at::text,
       site.program_id, preceptor.welcome_due_at, now(), jsonb_build_object('preceptor_id', preceptor.id), '',
       'pending', '', 0, '', now()
FROM externships_preceptor AS preceptor
JOIN externships_site AS site ON site.id = preceptor.site_id
WHERE preceptor.welcome_due_at IS NOT NULL AND preceptor.is_active
ON CONFLICT DO NOTHING;

SET CONSTRAINTS ALL DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_one_outbox"),
        ("accounts", "0007_trigger_functions_pin_search_path"),
        ("externships", "0007_trigger_functions_pin_search_path"),
    ]

    operations = [migrations.RunSQL(MOVE, migrations.RunSQL.noop)]
