"""The faces: the ``harness`` command and the pytest plugin, and the expectation file reader they share.

A face parses what a person typed or wrote and calls the layers below; it
holds no knowledge of its own about traces or the kernel.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``SUFFIX``, looked up on first use: ``harness trace`` does not import the expectation model.

    ``SUFFIX`` marks a file as an expectation file (in the model, so that the running layer knows it too).
    It is here rather than in the loader, so that the plugin can claim files without importing YAML and
    JSON Schema.
    """
    if name == "SUFFIX":
        from harness.model.expectations import EXPECTATION_SUFFIX

        return EXPECTATION_SUFFIX
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
