"""The README and the documentation pages are tests too: every example they show is run.

The collector is in ``tests/support/doc_examples.py``; it claims README.md
and the pages of docs/ only.
"""

from support.doc_examples import collect_page

pytest_collect_file = collect_page
