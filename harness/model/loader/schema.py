"""The JSON Schema of expectation files, and its refusals worded as a person reads them.

The schema is a data file (``expectation.schema.yaml``) checked before
anything is read; each refusal becomes an :class:`ExpectationError` at the
place the value was written.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import yaml

from harness.model.expectations import (
    FACTS,
)
from harness.model.hints import closest
from harness.model.loader.marks import ExpectationError, Path_, Source, nearest
from harness.model.scenario import (
    MODES,
    PROTOCOL_NAMES,
)


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema of expectation files (harness/faces/expectation.schema.yaml)."""
    text = resources.files("harness.model.loader").joinpath("expectation.schema.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    # Closed sets written once, in the model:
    loaded["$defs"]["assertion"]["properties"]["fact"] = {"enum": list(FACTS)}
    loaded["properties"]["scenario"]["properties"]["mode"] = {"enum": list(MODES)}
    loaded["properties"]["server"]["else"]["properties"]["protocol"] = {"enum": list(PROTOCOL_NAMES)}
    return loaded


# -- YAML with marks --------------------------------------------------------------


def schema_errors(source: Source) -> Iterator[tuple[Path_, ExpectationError]]:
    """Every mistake the schema finds, with the JSON path of the part it refuses."""
    validator = jsonschema.Draft202012Validator(schema())
    # Unknown keys first: a misspelt key is usually also why a required one is "missing".
    errors = validator.iter_errors(source.data)
    steps_refused: set[Path_] = set()
    suggested: set[tuple[Path_, str]] = set()
    for error in sorted(errors, key=lambda e: (e.validator != "additionalProperties", list(map(str, e.absolute_path)))):
        path: Path_ = tuple(error.absolute_path)
        if isinstance(error.instance, dict) and "any_of" in error.schema.get("properties", {}):
            if path not in steps_refused:  # one mistake, however many rules of the step's schema it breaks
                steps_refused.add(path)
                yield (
                    path,
                    source.error(
                        path,
                        f"expected a step (a string like 'close($conn)', quoted if YAML reads it otherwise) "
                        f"or any_of: [STEP, STEP], found {error.instance!r}",
                    ),
                )
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    suggested.update((path, close) for close in closest(str(key), allowed))
                    yield (
                        (*path, key),
                        source.error((*path, key), f"unknown key {key!r}{nearest(str(key), allowed)}", key=True),
                    )
            continue
        if error.validator == "required":
            missing = [key for key in error.validator_value if key not in error.instance]
            missing = [key for key in missing if (path, key) not in suggested]  # a misspelling explains it
            if not missing:
                continue
            where = "the file" if not path else f"this {'assertion' if 'name' in missing else 'entry'}"
            yield path, source.error(path, f"{where} lacks the key {missing[0]!r}")
            continue
        if error.validator == "enum" and isinstance(error.instance, str):
            choices = [str(choice) for choice in error.validator_value]
            close = closest(error.instance, choices)
            hint = f"did you mean {close[0]!r}?" if close else "use one of: " + ", ".join(map(repr, choices))
            yield path, source.error(path, f"{path[-1] if path else 'value'}: unknown value {error.instance!r}; {hint}")
            continue
        field = ".".join(map(str, path)) or "the file"
        yield path, source.error(path, f"{field}: {_plain(error)}")


def _plain(error: jsonschema.ValidationError) -> str:
    """A schema error in words: what was expected and what was found."""
    found = error.instance
    if error.validator in ("type", "oneOf", "const"):
        expected = {
            "server": "a variant name, or a mapping with 'command' (and 'protocol')",
            "command": "a command line string, or a list of its words",
            "equals": "a number, 'connections', or an expression like 'connections + 2'",
            "at_least": "a number, 'connections', or an expression like 'connections + 2'",
            "at_most": "a number, 'connections', or an expression like 'connections + 2'",
        }.get(str(error.absolute_path[-1]) if error.absolute_path else "")
        if expected is None:
            expected = f"{error.validator_value}" if error.validator == "type" else "another form"
        return f"expected {expected}, found {found!r}"
    if error.validator == "pattern" and error.absolute_path and error.absolute_path[-1] == "in":
        return f"expected a capture like $worker, found {found!r}"
    # The harness's own words for every other rule of the schema: jsonschema's change between its
    # versions (4.18 says "[] is too short", today's "[] should be non-empty"), and a message is a promise too.
    bound = error.validator_value
    if error.validator == "minItems":
        return f"expected at least {bound} item{'s' if bound != 1 else ''}, found {found!r}"
    if error.validator == "minLength":
        return (
            f"expected a non-empty string, found {found!r}"
            if bound == 1
            else f"expected at least {bound} characters, found {found!r}"
        )
    if error.validator in _BOUNDS:
        return f"expected {_BOUNDS[str(error.validator)]} {bound}, found {found!r}"
    return f"{found!r} breaks the rule {error.validator}: {bound!r}"


#: The numeric rules of JSON Schema, in words ("expected at least 1").
_BOUNDS = {
    "minimum": "at least",
    "exclusiveMinimum": "more than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}


# -- assertions -------------------------------------------------------------------------
