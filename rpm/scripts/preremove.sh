#!/bin/sh
# Before removal (rpm $1 = 0; deb $1 = remove), not before an upgrade: stop
# and disable the renewal units. The user, its home (accounts,
# status.json) and the token files are kept.
set -e
case "$1" in
    0|remove) ;;
    *) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now credmon-token-renew.timer \
        credmon-token-renew.service credmon-token-renew-watch.service >/dev/null 2>&1 || :
fi
exit 0
