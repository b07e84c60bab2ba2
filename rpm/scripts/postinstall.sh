#!/bin/sh
# After install or upgrade, for both the rpm ($1: 1 install, 2+ upgrade) and
# the deb ($1: configure, $2: the version upgraded from, empty on install).
# Nothing is enabled or started: the admin chooses the timer or the watch
# service, and activates credmon in HTCondor's configuration
# (/usr/share/doc/credmon/examples/condor).
set -e

# The renewal units' system user and its directories, as the sysusers.d and
# tmpfiles.d files say; useradd where systemd-sysusers is missing (EL8 rpm
# does not apply sysusers.d files itself).
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers /usr/lib/sysusers.d/credmon-token.conf || :
elif ! getent passwd credmon-token >/dev/null; then
    getent group credmon-token >/dev/null || groupadd -r credmon-token
    useradd -r -g credmon-token -d /var/lib/credmon-token -s /sbin/nologin \
        -c "credmon-token renewal service" credmon-token
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/credmon-token.conf || :
fi

if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    upgrade=
    case "$1" in
        [2-9]*|[1-9][0-9]*) upgrade=1 ;;            # rpm: 2 or more installed
        configure) [ -n "$2" ] && upgrade=1 ;;      # deb: upgraded from $2
    esac
    # An upgrade restarts a running watch service on the new binary (a
    # stop lets the refreshes on the wire finish and be saved).
    if [ -n "$upgrade" ]; then
        systemctl try-restart credmon-token-renew-watch.service >/dev/null 2>&1 || :
    fi
fi
exit 0
