"""What every claim is, whatever it is about: a frozen value naming its evidence, with one sentence.

A finding's text, ``explain --format json`` and the report's paragraphs read
a claim only through this base: its kind (:attr:`Claim.name`), the events it
rests on (:attr:`Claim.evidence`, read from its ``seq`` fields) and its
sentence (:meth:`Claim.render`).  So a new kind of claim is a dataclass with
its sentence, and a check of its own in :mod:`harness.analysis.verify`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from harness.model.record import fields


def _is_event_seq(name: str) -> bool:
    """A field that names an event: ``seq`` or ``*_seq``; an ``enter_seq`` is a place in the order, no event."""
    return (name == "seq" or name.endswith("_seq")) and not name.endswith("enter_seq")


@dataclass(frozen=True, slots=True)
class Claim:
    """One assertion about a trace, resting on the events whose seq numbers it names."""

    name: ClassVar[str]
    """The claim's kind, as ``explain --format json`` writes it."""

    @property
    def evidence(self) -> tuple[int, ...]:
        """The seq numbers of the events this claim rests on."""
        seqs = (getattr(self, f.name) for f in fields(self) if _is_event_seq(f.name))
        return tuple(seq for seq in seqs if isinstance(seq, int))

    def render(self) -> str:
        """The claim in words."""
        raise NotImplementedError

    def to_json(self) -> dict[str, object]:
        """The claim as JSON: its kind, its fields and its evidence."""
        return {"claim": self.name, **asdict(self), "evidence": list(self.evidence)}
