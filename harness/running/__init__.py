"""The running side: trace a command, schedule its connections, drive its clients.

:mod:`harness.running.tracer` is the only code that touches ptrace.  Above it,
:mod:`~harness.running.schedule` orders races through ptrace holds,
:mod:`~harness.running.clients` talks to the server, :mod:`~harness.running.run`
ties them into one run and :mod:`~harness.running.check` checks a run against
its expectations.
"""
