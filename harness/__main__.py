"""Allow ``python -m harness``."""

from harness.faces.cli import main

raise SystemExit(main())
