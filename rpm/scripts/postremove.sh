#!/bin/sh
# After removal or upgrade: systemd forgets the units that went away.
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
