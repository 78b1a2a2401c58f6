"""The faces: the ``harness`` command and the pytest plugin, and the expectation file reader they share.

A face parses what a person typed or wrote and calls the layers below; it
holds no knowledge of its own about traces or the kernel.
"""
