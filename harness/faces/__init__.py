"""The faces: the ``harness`` command and the pytest plugin, and the expectation file reader they share.

A face parses what a person typed or wrote and calls the layers below; it
holds no knowledge of its own about traces or the kernel.
"""

from harness.model.expectations import EXPECTATION_SUFFIX

#: The suffix that marks a file as an expectation file (in the model, so that the running layer knows it too).
#: Here rather than in the loader, so that the plugin can claim files without importing YAML and JSON Schema.
SUFFIX = EXPECTATION_SUFFIX
