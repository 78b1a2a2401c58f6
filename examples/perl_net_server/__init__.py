"""socat as a fork-per-connection echo server (a Debian package, C)."""
