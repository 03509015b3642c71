"""Replace Wagtail's welcome page with our home page, and create the staff group that may enter the admin."""

from django.db import migrations


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("portal", "HomePage")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    Page.objects.filter(depth=2, slug="home", content_type__model="page").delete()
    home_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="portal")
    root = Page.objects.get(depth=1)
    if not HomePage.objects.exists():
        home = HomePage.objects.create(
            title="和合积分",
            draft_title="和合积分",
            slug="home",
            content_type=home_type,
            path=f"{root.path}0001",
            depth=2,
            numchild=0,
            url_path="/home/",
            locale_id=root.locale_id,
            live=True,
        )
        root.numchild = 1
        root.save(update_fields=["numchild"])
        Site.objects.all().delete()
        Site.objects.create(hostname="localhost", port=80, root_page_id=home.id, is_default_site=True,
                            site_name="和合积分")

    admin_type, _ = ContentType.objects.get_or_create(app_label="wagtailadmin", model="admin")
    access, _ = Permission.objects.get_or_create(
        content_type=admin_type, codename="access_admin", defaults={"name": "Can access Wagtail admin"}
    )
    group, _ = Group.objects.get_or_create(name="工作人员")
    group.permissions.add(access)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
