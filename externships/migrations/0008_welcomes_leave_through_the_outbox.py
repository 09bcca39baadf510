from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("externships", "0007_trigger_functions_pin_search_path"),
        ("notifications", "0003_invitations_and_welcomes_in_the_outbox"),
    ]

    operations = [
        migrations.RemoveField(model_name="preceptor", name="welcome_claimed_at"),
        migrations.RemoveField(model_name="preceptor", name="welcome_due_at"),
        migrations.RemoveField(model_name="preceptor", name="welcome_sent_at"),
    ]
