"""Take the screenshots the site shows, from real runs: ``python docs/screenshots.py`` (``.ci/run`` does).

The tutorial's picture of ``harness report fork_sigchld`` is that very
command's page, drawn by headless Chromium, so it always shows what the
current report draws.  The images go to ``docs/images/``, which git ignores;
the site's build fails without them (``docs/hooks/screenshot_present.py``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

IMAGES = Path(__file__).resolve().parent / "images"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: Wide enough for the timeline's lanes and the explanation panel side by side.
WINDOW = "1400,900"


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    sys.exit(f"screenshots: no browser ({', '.join(BROWSERS)}): install chromium")


def _report(variant: str, html: Path) -> None:
    subprocess.run([sys.executable, "-m", "harness", "report", variant, "-o", str(html)], check=True)


def _screenshot(browser: str, html: Path, png: Path) -> None:
    # --no-sandbox: Chromium refuses to run as root with its sandbox, and CI runs as root (ptrace needs it).
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += [f"--screenshot={png}", f"--window-size={WINDOW}", html.as_uri()]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)
    if not png.is_file() or png.stat().st_size == 0:
        sys.exit(f"screenshots: {browser} wrote no {png}")


def main() -> None:
    """Write every screenshot the site shows."""
    browser = _browser()
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        html = Path(scratch) / "fork_sigchld.html"
        _report("fork_sigchld", html)
        _screenshot(browser, html, IMAGES / "report-fork_sigchld.png")
    print(f"wrote {IMAGES / 'report-fork_sigchld.png'}")


if __name__ == "__main__":
    main()
