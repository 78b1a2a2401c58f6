"""No input makes the JSON Lines reader crash: it reads a trace or names the line at fault."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from support.nested_trace import NESTED
from test_events import EVENTS

from harness.analysis.explain import explain
from harness.analysis.finding import render
from harness.analysis.golden import normalize
from harness.analysis.report import render_report
from harness.model.events import FIELD_TYPES, Event, event_to_dict
from harness.model.strace_format import render_trace
from harness.model.trace import Trace, TraceFileError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(["type", *FIELD_TYPES])


def _read(lines: list[str]) -> None:
    try:
        trace = Trace.from_lines(lines, source="fuzz")
    except TraceFileError as error:
        assert str(error).startswith("fuzz:")
    else:
        assert len(trace) <= len(lines)


@given(st.lists(st.text(), max_size=5))
def test_any_text_is_read_or_refused(lines: list[str]) -> None:
    _read(lines)


@given(st.lists(st.dictionaries(keys, json_values, max_size=12) | json_values, max_size=4))
def test_any_json_is_read_or_refused(objects: list[object]) -> None:
    _read([json.dumps(obj) for obj in objects])


@given(st.sampled_from(EVENTS), keys, json_values)
def test_a_real_event_with_one_key_changed_is_read_or_refused(event: Event, key: str, value: object) -> None:
    data = event_to_dict(event)
    data[key] = value
    _read([json.dumps(data)])


def _nested_paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place inside an event's nested values (its args, siginfo and argv, and their members)."""
    places = [path] if path else []
    if isinstance(value, dict):
        for key, member in value.items():
            places += _nested_paths(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            places += _nested_paths(member, (*path, index))
    return places


def _replaced(data: Any, path: tuple[str | int, ...], value: object) -> Any:
    copy = json.loads(json.dumps(data))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return copy


def _every_reader(trace: Trace) -> None:
    """What show, explain, report and diff do with a trace they read."""
    render_trace(trace)
    render(explain(trace), format="text")
    render_report(trace, title="fuzz")
    normalize(trace)


def test_the_nested_trace_is_read_and_used_by_every_reader() -> None:
    trace = Trace.from_lines([json.dumps(event) for event in NESTED], source="fuzz")
    assert len(trace) == len(NESTED)
    _every_reader(trace)


@given(st.data(), json_values)
def test_any_nested_value_changed_is_refused_with_its_line_or_read_and_used(data: st.DataObject, value: object) -> None:
    """Any value of any type at any nested place: a one-line refusal naming the line, or a trace every reader takes."""
    index = data.draw(st.integers(0, len(NESTED) - 1))
    event = NESTED[index]
    nested = {key: event[key] for key in ("args", "siginfo", "argv") if key in event}
    paths = _nested_paths(nested)
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    lines = [json.dumps(other) for other in NESTED]
    lines[index] = json.dumps(_replaced(event, path, value))
    try:
        trace = Trace.from_lines(lines, source="fuzz")
    except TraceFileError as error:
        assert str(error).startswith(f"fuzz:{index + 1}: ")
        assert "\n" not in str(error)
    else:
        _every_reader(trace)


@given(st.data(), keys, json_values)
def test_any_key_of_an_event_changed_is_refused_with_its_line_or_read_and_used(
    data: st.DataObject, key: str, value: object
) -> None:
    """Any top-level key set to any value, in a trace of every shape: refused at its line, or every reader takes it."""
    index = data.draw(st.integers(0, len(NESTED) - 1))
    lines = [json.dumps(other) for other in NESTED]
    lines[index] = json.dumps({**NESTED[index], key: value})
    try:
        trace = Trace.from_lines(lines, source="fuzz")
    except TraceFileError as error:
        assert str(error).startswith(f"fuzz:{index + 1}: ")
        assert "\n" not in str(error)
    else:
        _every_reader(trace)
