from django.db import migrations, models


def fill_skeletons(apps, schema_editor):
    from rooms.lookalikes import skeleton

    User = apps.get_model("rooms", "User")
    for user in User.objects.only("pk", "username").iterator():
        User.objects.filter(pk=user.pk).update(skeleton=skeleton(user.username))


class Migration(migrations.Migration):
    dependencies = [("rooms", "0005_message_author_risk_time")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="skeleton",
            field=models.CharField(db_index=True, default="", editable=False, max_length=200),
        ),
        migrations.RunPython(fill_skeletons, migrations.RunPython.noop),
    ]
