"""Reports: files of proposals built in the background for analysts.

rows.py streams the rows of a report from the database in keyset chunks; writers.py turns
them into CSV, XLSX or an HTML summary; services.py orders, claims, finishes and expires
reports; the Celery tasks that drive them are in proposals/tasks.py.
"""
