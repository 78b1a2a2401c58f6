"""Allow ``python -m harness``."""

from harness._start import main

main()
