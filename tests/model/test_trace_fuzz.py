"""No input makes the JSON Lines reader crash: it reads a trace or names the line at fault."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from test_events import EVENTS

from harness.model.events import FIELD_TYPES, Event, event_to_dict
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
