"""gunicorn's settings for the examples: two sync workers, and nothing written outside the run.

The bind address is given on the command line (the harness chooses the port).
"""

workers = 2
worker_class = "sync"
# A worker that misses the arbiter's SIGTERM (see README.md) is killed by the arbiter after this
# many seconds, well within the expectation file's grace (gunicorn's default is 30).
graceful_timeout = 3
# Recent gunicorn versions open a control socket in ~/.gunicorn; the examples need none.
# (Older versions ignore a setting they do not know.)
control_socket_disable = True
