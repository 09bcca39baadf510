from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_trigger_functions_pin_search_path"),
        ("notifications", "0003_invitations_and_welcomes_in_the_outbox"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="invitation", name="invitation_unsent"),
        migrations.RemoveField(model_name="invitation", name="claimed_at"),
        migrations.RemoveField(model_name="invitation", name="sent_at"),
    ]
