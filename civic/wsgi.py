import os

from django.core.wsgi import get_wsgi_application

from civic.checks import warn_if_not_production_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")

application = get_wsgi_application()
# Once per gunicorn worker, with debug off: a server on SQLite, without Redis, with console
# email or links to 127.0.0.1 says so in its log (`manage.py check --deploy` refuses it).
warn_if_not_production_ready("web")
