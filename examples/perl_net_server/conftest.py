"""Net::Server is a Perl module (Debian: libnet-server-perl): without it, this folder's file cannot run."""

import subprocess

import pytest
from support.capability import missing


def _has_net_server() -> bool:
    try:
        found = subprocess.run(["perl", "-MNet::Server::Fork", "-e1"], capture_output=True, timeout=30)
    except OSError:
        return False
    return found.returncode == 0


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (fail where CI requires every capability) before the server is started."""
    if not _has_net_server():
        missing("Perl's Net::Server is not installed: apt-get install libnet-server-perl")
