"""gunicorn's settings for Civic's web process:

    gunicorn -c deploy/gunicorn.conf.py civic.wsgi

(deploy/systemd/civic-web.service runs it so). Options given on the command line win over
these.

Its own lines (start, worker boots and timeouts) and the access log are written like the
rest of Civic's (civic/logs.py): UTC times with the offset, JSON lines with
`CIVIC_LOG_FORMAT=json`, level from DJANGO_LOG_LEVEL. One access line a request: peer
address, method, path without the query string and with emailed links' tokens replaced,
status, bytes, milliseconds, user agent.
"""

import os

from civic.logs import ACCESS_LOG_FORMAT, logging_config_from_env

# Only the proxy on this machine talks to gunicorn: it alone sets X-Forwarded-Proto and
# X-Forwarded-For, which the site trusts (DJANGO_SECURE, CIVIC_NUM_PROXIES).
bind = "127.0.0.1:8000"
# gunicorn's own variable for the number of workers.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = 60

# With logconfig_dict gunicorn writes its access log through the "gunicorn.access" logger
# configured there; `--access-logfile` would add a second handler (each line twice).
logconfig_dict = logging_config_from_env(dict(os.environ))
access_log_format = ACCESS_LOG_FORMAT

# gunicorn 25.1 and later open a control socket under $HOME/.gunicorn by default: the
# civic user's home is the checkout, where nothing is written at run time. Reloads go
# through systemd (HUP), which needs no socket.
control_socket_disable = True
