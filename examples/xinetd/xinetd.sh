#!/bin/sh
# Run xinetd in the foreground with one service on 127.0.0.1:$1: each connection's child execs cat.
# xinetd reads its configuration from a file: one per port, in a directory of this user's, written
# again by each run on that port (xinetd keeps no pid file unless asked).  xinetd replaces this shell
# (exec), so the harness's stop signal reaches xinetd itself.
set -eu
dir="${TMPDIR:-/tmp}/harness-xinetd-$(id -u)"
mkdir -p -m 700 "$dir"
cat > "$dir/$1.conf" <<CONF
service harness-echo
{
    type        = UNLISTED
    port        = $1
    socket_type = stream
    protocol    = tcp
    wait        = no
    user        = root
    server      = /bin/cat
    bind        = 127.0.0.1
    flags       = REUSE
}
CONF
exec xinetd -dontfork -stayalive -f "$dir/$1.conf"
