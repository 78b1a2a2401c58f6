"""Real servers written elsewhere, with their expectations (a package only so that pytest names its conftest apart)."""
