"""The README and the documentation pages are tests too: every example they show is run (tests/support/doc_examples.py)."""

from support.doc_examples import collect_page

pytest_collect_file = collect_page
