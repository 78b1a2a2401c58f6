"""The bundled server variants and their expectation files, shipped inside the package.

They live at the top of the checkout (``servers/`` and ``expectations/``,
where a reader looks for them) and are installed as ``harness.bundled.servers``
and ``harness.bundled.expectations`` (see ``pyproject.toml``), so that an
installed harness finds them from any directory.
"""
