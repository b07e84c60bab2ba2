#!/bin/bash
# Check the systemd units in rpm/ with `systemd-analyze verify`.
#
# verify insists that ExecStart's binary exists, so the units are copied to a
# temporary directory with /usr/bin/credmon-token replaced by a dummy
# executable (and /usr/sbin/credmon-web likewise). Exit status is non-zero if systemd reports any problem.
#
# It also scores every service's sandboxing with `systemd-analyze security
# --offline=yes` and fails above exposure 4.9, i.e. anything worse than
# "OK" (systemd's scale: 0 PERFECT, <1 SAFE, <5 OK, <7 MEDIUM, <9 EXPOSED,
# else UNSAFE). Scores with systemd 252 (Debian bookworm), issue 15:
#   credmon-token-renew.service        1.2 OK  (was 9.0 UNSAFE)
#   credmon-token-renew-watch.service  1.2 OK  (was 9.0 UNSAFE)
# What is left is network access (AF_INET/AF_INET6, no IP allow list: the
# issuers are the site's), AF_UNIX (NOTIFY_SOCKET), PrivateUsers= (kept
# off: the token directory is shared by group with other services), the
# host's root directory, and char-rtc read access (PrivateDevices' ACL).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify-units.sh: systemd-analyze not found" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/bin" "$tmp/units"
for b in credmon-token credmon-web; do
    printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/$b"
    chmod 0755 "$tmp/bin/$b"
done

units=()
for unit in "$here"/*.service "$here"/*.timer; do
    [ -e "$unit" ] || continue
    name="$(basename "$unit")"
    sed -e "s|/usr/bin/credmon-token|$tmp/bin/credmon-token|g" \
        -e "s|/usr/sbin/credmon-web|$tmp/bin/credmon-web|g" "$unit" > "$tmp/units/$name"
    units+=("$tmp/units/$name")
done
if [ "${#units[@]}" -eq 0 ]; then
    echo "verify-units.sh: no units in $here" >&2
    exit 1
fi

# verify exits 0 on some warnings; treat any output about our units as failure.
out="$(cd "$tmp/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "${units[@]}" 2>&1)" || {
    printf '%s\n' "$out" >&2
    exit 1
}
if grep -F "$tmp/units" <<<"$out" >&2; then
    exit 1
fi
# verify does not notice a timer whose Unit= names a unit that is not shipped.
for timer in "$tmp"/units/*.timer; do
    [ -e "$timer" ] || continue
    target="$(sed -n 's/^Unit=//p' "$timer")"
    target="${target:-$(basename "${timer%.timer}").service}"
    if [ ! -e "$tmp/units/$target" ]; then
        echo "verify-units.sh: $(basename "$timer") starts $target, which is not in $here" >&2
        exit 1
    fi
done
# Sandboxing: every service "OK" or better (exposure <= 4.9).
max_exposure=49 # --threshold is ten times the exposure shown
for unit in "$here"/*.service; do
    [ -e "$unit" ] || continue
    if ! out="$(systemd-analyze security --offline=yes --threshold="$max_exposure" "$unit" 2>&1)"; then
        printf '%s\n' "$out" | grep -E '✗|Overall' >&2
        echo "verify-units.sh: $(basename "$unit"): sandboxing worse than OK (exposure above ${max_exposure:0:1}.${max_exposure:1})" >&2
        exit 1
    fi
    score="$(sed -n 's/.*Overall exposure level for [^:]*: //p' <<<"$out")"
    units+=("$(basename "$unit") (security: $score)")
done
# The service user and its home: applied to an empty root, as the package
# would apply them.
root="$tmp/root"
mkdir -p "$root/etc"
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers --root="$root" "$here/credmon-token.sysusers" >/dev/null 2>&1
    grep -q '^credmon-token:' "$root/etc/passwd" || {
        echo "verify-units.sh: credmon-token.sysusers created no credmon-token user" >&2
        exit 1
    }
    units+=("credmon-token.sysusers")
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
        systemd-tmpfiles --root="$root" --create "$here/credmon-token.tmpfiles"
        for want in "var/lib/credmon-token 750" "run/credmon-token 755"; do
            set -- $want
            [ "$(stat -c %a "$root/$1" 2>/dev/null)" = "$2" ] || {
                echo "verify-units.sh: credmon-token.tmpfiles did not create /$1 with mode $2" >&2
                exit 1
            }
        done
        units+=("credmon-token.tmpfiles")
    fi
fi
printf 'ok: %s\n' "${units[@]##*/}"
