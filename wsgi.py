"""The WSGI entry point: ``gunicorn wsgi:app``."""

from portal import create_app, settle_heap

app = create_app()
settle_heap()
