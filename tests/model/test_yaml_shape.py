"""A YAML text's nesting and aliases are found on its events, before PyYAML builds (and recurses)."""

from __future__ import annotations

import pytest
import yaml

from harness.model.yaml_shape import MAX_NESTING, PARSERS, ShapeProblem, shape_problem, shape_problem_by

#: Deeper than libyaml 0.2.6's own limit (1000 levels), which it reports before the events show level 65.
PAST_LIBYAML_LIMIT = 5000


def test_a_text_nested_just_to_the_bound_passes() -> None:
    text = "a: " + "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1) + "\n"
    assert shape_problem(text, aliases=False) is None


def test_the_first_level_past_the_bound_is_named_at_its_place() -> None:
    text = "a: " + "[" * (MAX_NESTING + 500) + "]" * (MAX_NESTING + 500) + "\n"
    assert shape_problem(text, aliases=True) == ShapeProblem("nesting", 1, 3 + MAX_NESTING)


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 999, 1001, PAST_LIBYAML_LIMIT])
def test_the_place_is_the_same_whatever_the_depth_and_the_installed_libyaml(depth: int) -> None:
    text = "x: 1\nassertions: " + "[" * depth + "]" * depth + "\n"
    assert shape_problem(text, aliases=True) == ShapeProblem("nesting", 2, 12 + MAX_NESTING)  # the mapping is level 1


@pytest.mark.parametrize("parser", PARSERS, ids=lambda parser: parser.__name__)
def test_each_parser_that_reads_a_text_to_its_65th_level_names_the_same_place(parser: type[yaml.SafeLoader]) -> None:
    text = "a:\n  b: {c: " + "[" * (MAX_NESTING + 10) + "]" * (MAX_NESTING + 10) + "}\n"
    assert shape_problem_by(parser, text, aliases=True) == ShapeProblem("nesting", 2, 9 + MAX_NESTING - 2)


def test_the_pure_python_parser_reads_past_libyamls_own_limit() -> None:
    text = "a: " + "[" * PAST_LIBYAML_LIMIT + "]" * PAST_LIBYAML_LIMIT + "\n"
    assert shape_problem_by(yaml.SafeLoader, text, aliases=True) == ShapeProblem("nesting", 1, 3 + MAX_NESTING)


def test_block_mappings_count_as_levels_too() -> None:
    text = "".join(f"{'  ' * level}k{level}:\n" for level in range(MAX_NESTING + 1)) + f"{'  ' * (MAX_NESTING + 1)}v\n"
    assert shape_problem(text, aliases=True) == ShapeProblem("nesting", MAX_NESTING + 1, 1 + 2 * (MAX_NESTING))


@pytest.mark.parametrize(("aliases", "expected"), [(True, None), (False, ShapeProblem("alias", 2, 4))])
def test_an_alias_is_refused_only_where_aliases_are_not_allowed(aliases: bool, expected: ShapeProblem | None) -> None:
    assert shape_problem("x: &a [1]\ny: *a\n", aliases=aliases) == expected


def test_text_that_is_not_yaml_is_left_to_the_reader_to_report() -> None:
    assert shape_problem("a: [1, 2\n", aliases=False) is None
