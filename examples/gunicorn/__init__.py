"""gunicorn, with its expectations (a package so that pytest imports its conftest as examples.gunicorn.conftest)."""
