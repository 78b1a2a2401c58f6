"""The commands of ``harness``, one module each: its parser beside its handler.

As each of pytest's plugins declares the options it reads, each command
declares its own here, so that what an option means is read in one place; the
options several commands share are declared once, in :mod:`harness.faces.options`.
A start imports its own command's module alone, to build its parser
(:func:`harness.faces.cli.build_parser`), even to print its help: so a
command's module imports nothing heavy at its top, and its handler imports the
analysis, the runs and the tracer it needs.
"""
