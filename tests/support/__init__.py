"""What the tests share besides fixtures: paths, the test programs, capability checks, trace builders.

Fixtures live in ``tests/conftest.py``, which pytest loads by itself; plain
helpers live here and are imported by name (``from support.programs import
PROGRAMS``).  ``tests/`` is on the import path through ``pythonpath`` in
pyproject.toml, so the imports work however pytest is started (``python -m
pytest``, ``pytest tests/analysis/test_match.py``, with or without xdist).
"""
