"""An app whose import fails, as after a bad deploy: gunicorn must refuse it."""

import flask_that_does_not_exist  # noqa: F401

app = None
