"""The start-up path's value classes behave as the frozen, slotted dataclasses they replace."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from typing import ClassVar

import pytest

from harness.model import record
from harness.model.events import SyscallEvent


@record.record(kw_only=True)
class _Base:
    """A base with a required and a defaulted field."""

    seq: int
    role: str = "main"


@record.record(kw_only=True)
class _Call(_Base):
    """A subclass adding a factory default, a class variable and a field left out of equality."""

    kind: ClassVar[str] = "call"
    args: dict[str, int] = record.field(default_factory=dict)
    note: str = record.field(default="", compare=False, repr=False)


@record.record
class _Point:
    """Positional fields."""

    x: int
    y: int = 0


@record.record(frozen=False)
class _Counter:
    """A mutable record."""

    count: int = 0


def test_fields_come_base_first_in_init_order_and_class_variables_are_no_fields() -> None:
    assert [item.name for item in record.fields(_Call)] == ["seq", "role", "args", "note"]
    assert _Call.kind == "call"
    assert not hasattr(_Call(seq=1), "__dict__")  # slots: no per-value dictionary


def test_defaults_and_factories_fill_what_is_not_given_and_a_factory_gives_each_value_its_own() -> None:
    first, second = _Call(seq=1), _Call(seq=2)
    assert (first.role, first.args, first.note) == ("main", {}, "")
    assert first.args is not second.args


def test_keyword_only_fields_refuse_positions_and_positional_ones_take_them() -> None:
    with pytest.raises(TypeError):
        _Call(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="seq"):
        _Call()  # type: ignore[call-arg]
    assert _Point(3) == _Point(x=3, y=0)
    assert _Point.__match_args__ == ("x", "y")
    assert _Call.__match_args__ == ()


def test_a_frozen_record_refuses_to_change_and_a_mutable_one_changes() -> None:
    call = _Call(seq=1)
    with pytest.raises(record.FrozenRecordError):
        call.seq = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):  # as dataclasses.FrozenInstanceError is one
        del call.role
    counter = _Counter()
    counter.count += 1
    assert counter.count == 1


def test_equality_and_hash_are_by_the_compared_fields_of_the_same_class() -> None:
    assert _Call(seq=1, note="a") == _Call(seq=1, note="b")
    assert hash(_Point(1, 2)) == hash(_Point(1, 2))
    assert _Point(1, 2) != _Point(2, 1)
    assert _Call(seq=1) != _Base(seq=1)
    with pytest.raises(TypeError):
        hash(_Counter())  # a mutable value has no hash, as a dataclass's


def test_repr_shows_the_shown_fields() -> None:
    assert repr(_Call(seq=1, args={"fd": 3}, note="hidden")) == "_Call(seq=1, role='main', args={'fd': 3})"


def test_replace_builds_through_init_and_refuses_a_field_it_does_not_have() -> None:
    call = _Call(seq=1, args={"fd": 3})
    assert record.replace(call, role="main.1") == _Call(seq=1, role="main.1", args={"fd": 3})
    with pytest.raises(TypeError, match="'rol'"):
        record.replace(call, rol="main.1")
    with pytest.raises(TypeError, match="dataclass"):  # neither a record nor a dataclass
        record.fields(object())


def test_a_record_survives_pickle_and_copy() -> None:
    event = SyscallEvent(
        seq=4, pid=10, tid=10, role="main", name="close", args={"fd": 4}, ret=0, errno=None, enter_seq=3
    )
    assert pickle.loads(pickle.dumps(event)) == event
    assert copy.deepcopy(event) == event
    assert copy.copy(_Point(1, 2)) == _Point(1, 2)


def test_the_event_model_imports_neither_dataclasses_nor_inspect() -> None:
    """Why the module exists: the start-up path's classes cost no ``inspect`` import."""
    code = (
        "import sys, harness.model.events, harness.model.trace\n"
        "print(sorted({'dataclasses', 'inspect'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


def test_replace_and_fields_serve_a_plain_dataclass_too() -> None:
    """One way to copy any value, so that lint can ban the one that fails on records (``dataclasses.replace``)."""
    from harness.model.scenario import DEFAULT_SCENARIO

    assert record.replace(DEFAULT_SCENARIO, connections=7).connections == 7
    assert "connections" in [item.name for item in record.fields(DEFAULT_SCENARIO)]
