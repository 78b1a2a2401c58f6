"""A finished traced run of a test program, as the ``traced`` fixture returns it."""

from __future__ import annotations

from harness.running.tracer import TraceResult


class Run:
    """A finished traced run, with what the command printed."""

    def __init__(self, result: TraceResult, stdout: str, stderr: str) -> None:
        self.result = result
        self.trace = result.trace
        self.stdout = stdout
        self.stderr = stderr
