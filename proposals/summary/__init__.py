"""The public summary table of a strategy: every published or publicly rejected proposal,
section by section, with the city's published answer.

selectors.py reads the rows (the API's page and the files' chunks); writers.py turns
chunks into CSV, XLSX or a printable HTML page; services.py requests, claims, builds and
finishes the files (one per strategy, format and language) and marks them stale when
what they show changes; tasks.py holds the Celery tasks that drive the builds.
"""
