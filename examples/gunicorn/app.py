"""The smallest WSGI application: answers every request with one line of text."""


def app(environ: dict, start_response) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Say hello, with a length, so that a keep-alive client knows where the answer ends."""
    body = b"hello from a gunicorn worker\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
