"""Amounts are parsed, never evaluated: any text is an amount or one AmountError with a column."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model.amounts import AmountError, parse_amount

ALPHABET = "connections 0123456789+-*()/_.x'\";"


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=20))
def test_any_text_is_an_amount_or_refused_at_a_column(text: str) -> None:
    try:
        amount = parse_amount(text)
    except AmountError as error:
        assert 0 <= error.offset <= len(text)
    else:
        assert isinstance(amount.value(3), int)


@given(connections=st.integers(min_value=0, max_value=1000))
def test_the_precedence_is_arithmetics_own(connections: int) -> None:
    assert parse_amount("2 * connections + 2").value(connections) == 2 * connections + 2
    assert parse_amount("2 * (connections + 2)").value(connections) == 2 * (connections + 2)
    assert parse_amount("connections - 1 - 1").value(connections) == connections - 2


def test_deep_parentheses_are_refused_by_length_not_by_recursion() -> None:
    with pytest.raises(AmountError, match="longer than 200 characters"):
        parse_amount("(" * 150 + "1" + ")" * 150)
    assert parse_amount("(" * 90 + "1" + ")" * 90).value(0) == 1
