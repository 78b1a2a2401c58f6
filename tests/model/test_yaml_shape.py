"""A YAML text's nesting and aliases are found on its events, before PyYAML builds (and recurses)."""

from __future__ import annotations

import pytest

from harness.model.yaml_shape import MAX_NESTING, ShapeProblem, shape_problem


def test_a_text_nested_just_to_the_bound_passes() -> None:
    text = "a: " + "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1) + "\n"
    assert shape_problem(text, aliases=False) is None


def test_the_first_level_past_the_bound_is_named_at_its_place() -> None:
    text = "a: " + "[" * (MAX_NESTING + 500) + "]" * (MAX_NESTING + 500) + "\n"
    assert shape_problem(text, aliases=True) == ShapeProblem("nesting", 1, 3 + MAX_NESTING)


def test_block_mappings_count_as_levels_too() -> None:
    text = "".join(f"{'  ' * level}k{level}:\n" for level in range(MAX_NESTING + 1)) + f"{'  ' * (MAX_NESTING + 1)}v\n"
    assert shape_problem(text, aliases=True) == ShapeProblem("nesting", MAX_NESTING + 1, 1 + 2 * (MAX_NESTING))


@pytest.mark.parametrize(("aliases", "expected"), [(True, None), (False, ShapeProblem("alias", 2, 4))])
def test_an_alias_is_refused_only_where_aliases_are_not_allowed(aliases: bool, expected: ShapeProblem | None) -> None:
    assert shape_problem("x: &a [1]\ny: *a\n", aliases=aliases) == expected


def test_text_that_is_not_yaml_is_left_to_the_reader_to_report() -> None:
    assert shape_problem("a: [1, 2\n", aliases=False) is None
