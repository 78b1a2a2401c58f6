"""gunicorn's settings for the examples: two sync workers, and nothing written outside the run.

The bind address is given on the command line (the harness chooses the port).
"""

workers = 2
worker_class = "sync"
# A worker that does not end within this many seconds of the arbiter's SIGTERM is killed by the
# arbiter with SIGKILL (and left unreaped).  A limit, not a pause: a traced worker on a loaded
# machine may need several seconds; the expectation files' grace is longer (gunicorn's default is 30).
graceful_timeout = 20
# Recent gunicorn versions open a control socket in ~/.gunicorn; the examples need none.
# (Older versions ignore a setting they do not know.)
control_socket_disable = True
