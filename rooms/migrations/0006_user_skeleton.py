from django.db import migrations, models


def fill_keys(apps, schema_editor):
    from rooms.lookalikes import keys

    User = apps.get_model("rooms", "User")
    for user in User.objects.only("pk", "username").iterator():
        as_written, in_capitals = keys(user.username)
        User.objects.filter(pk=user.pk).update(skeleton=as_written, skeleton_capitals=in_capitals)


class Migration(migrations.Migration):
    dependencies = [("rooms", "0005_message_author_risk_time")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="skeleton",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="user",
            name="skeleton_capitals",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]
