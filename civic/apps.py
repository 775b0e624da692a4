from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, on the site's own AdminSite (civic/admin_site.py)."""

    default_site = "civic.admin_site.AdminSite"
