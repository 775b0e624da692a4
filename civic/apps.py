from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig

# The project has no app of its own: this admin config is the one AppConfig of the civic
# package, so loading it is what registers the production checks of `check --deploy` and
# connects their warnings to the Celery worker's and beat's start (civic/checks.py).
import civic.checks  # noqa: F401


class AdminConfig(DjangoAdminConfig):
    """Django's admin, on the site's own AdminSite (civic/admin_site.py)."""

    default_site = "civic.admin_site.AdminSite"
