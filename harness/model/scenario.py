"""What the clients of a run do: the scenario an expectation file or the command line asks for.

It is part of the model, not of the runner, so that an expectation file can be
read and matched without loading the tracer.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.errors import UsageError

MODES = ("deterministic", "free")


@dataclass(frozen=True, slots=True)
class Scenario:
    """What the clients do: how many connections, messages each, how many at a time, and the mode."""

    connections: int = 3
    messages: int = 1
    concurrency: int = 1
    mode: str = "deterministic"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"unknown mode {self.mode!r}: use deterministic or free")
        if self.connections < 1 or self.messages < 0 or self.concurrency < 1:
            raise UsageError("connections and concurrency must be at least 1, messages at least 0")
        if self.mode == "deterministic" and self.concurrency != 1:
            raise UsageError(
                "deterministic mode serves one connection at a time; use --mode free for --concurrency > 1"
            )
