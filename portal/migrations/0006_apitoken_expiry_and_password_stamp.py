import datetime

from django.db import migrations, models


def expire_existing(apps, schema_editor):
    """Tokens issued before tokens expired get the lifetime new ones get, counted from their creation; their
    password stamp stays empty, so they stop at the next password change like any other (an empty stamp never
    matches)."""
    ApiToken = apps.get_model("portal", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True):
        token.expires_at = token.created_at + datetime.timedelta(days=90)
        token.save(update_fields=["expires_at"])


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_committee_approval_task")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="到期时间"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="password_stamp",
            field=models.CharField(blank=True, editable=False, max_length=128),
        ),
        migrations.RunPython(expire_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(editable=False, verbose_name="到期时间"),
        ),
    ]
