#!/usr/bin/env bash
# Builds the .deb (scripts/package-deb.sh), installs it with dpkg, checks what it installed
# (binary, man pages, completions, unit, user), runs the service as packaged and reads its
# /metrics, runs lintian, then removes it and checks that only its configuration remains, and
# purges it. Needs root (dpkg -i on this machine); run by .ci/run, or by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "package-test: needs root (installs the package into this machine)" >&2
    exit 1
fi
if dpkg-query -W -f='${Status}' hypermesh 2>/dev/null | grep -q 'ok installed'; then
    echo "package-test: hypermesh is already installed here; remove it first" >&2
    exit 1
fi

start=$SECONDS
deb="$(bash scripts/package-deb.sh | tail -n1)"
built=$SECONDS
echo "package-test: built $deb ($(du -h "$deb" | cut -f1)) in $((built - start)) s"

fail() {
    echo "package-test: FAIL: $*" >&2
    exit 1
}

dpkg -i "$deb"
[ "$(command -v hypermesh)" = /usr/bin/hypermesh ] || fail "hypermesh is not /usr/bin/hypermesh"
/usr/bin/hypermesh --version | grep -qx "hypermesh $(dpkg-query -W -f='${Version}' hypermesh | sed 's/-[^-]*$//')" \
    || fail "hypermesh --version disagrees with the package version"
hypermesh --version
page="$(MANPAGER=cat MANWIDTH=80 man hypermesh)" || fail "man hypermesh"
head -n 12 <<<"$page"
grep -q '^NAME' <<<"$page" || fail "man hypermesh has no NAME section"
MANPAGER=cat man hypermesh-serve | grep -- '--collectors' >/dev/null || fail "man hypermesh-serve"
for f in /usr/share/bash-completion/completions/hypermesh /usr/share/zsh/vendor-completions/_hypermesh \
    /usr/share/fish/vendor_completions.d/hypermesh.fish; do
    grep -q serve "$f" || fail "completion $f"
done
bash -c 'source /usr/share/bash-completion/completions/hypermesh && complete -p hypermesh' \
    || fail "the bash completion does not register"
id hypermesh || fail "no hypermesh user"
[ -f /etc/default/hypermesh ] || fail "no /etc/default/hypermesh"
unit=/lib/systemd/system/hypermesh.service
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"

# The service as packaged: its user, capabilities, state directory and arguments.
scrape() {
    local start=$SECONDS body
    until body="$(curl -fsS http://127.0.0.1:9469/metrics 2>/dev/null)"; do
        [ $((SECONDS - start)) -lt 30 ] || fail "no /metrics on 127.0.0.1:9469 within 30 s"
        sleep 0.5
    done
    for collector in inventory usage assets health ebpf; do
        grep -qx "hypermesh_scrape_collector_success{collector=\"$collector\"} 1" <<<"$body" \
            || fail "collector $collector failed in the packaged service"
    done
    echo "package-test: the packaged service serves every collector, eBPF included"
}
if [ -d /run/systemd/system ]; then
    systemctl start hypermesh
    scrape
    [ "$(systemctl show -P User hypermesh)" = hypermesh ] || fail "the service does not run as hypermesh"
    systemctl stop hypermesh
else
    # No systemd here (a container): the unit's command line as its user, with its ambient
    # capabilities and environment, the way systemd would start it.
    echo "package-test: no systemd running; starting the unit's ExecStart by hand"
    caps="$(sed -n 's/^AmbientCapabilities=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')"
    args="$(sed -n 's/^Environment="HYPERMESH_SERVE_ARGS=\(.*\)"$/\1/p' "$unit")"
    exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
    install -d -o hypermesh -g hypermesh -m 750 /var/lib/hypermesh
    # shellcheck disable=SC2086 # the arguments are words, as systemd splits $HYPERMESH_SERVE_ARGS
    HYPERMESH_STATE_DIR=/var/lib/hypermesh setpriv --reuid hypermesh --regid hypermesh --init-groups \
        --inh-caps "$caps" --ambient-caps "$caps" ${exec_start%% *} serve $args &
    service=$!
    scrape
    kill -TERM "$service"
    wait "$service" || fail "the service did not stop cleanly on SIGTERM"
fi

lintian_start=$SECONDS
lintian --fail-on error,warning --display-info "$deb"
echo "package-test: lintian clean in $((SECONDS - lintian_start)) s (overrides: deploy/debian/lintian-overrides)"

dpkg -r hypermesh
[ "$(dpkg-query -W -f='${Status}' hypermesh)" = "deinstall ok config-files" ] || fail "not in config-files state"
left="$(dpkg -L hypermesh | while read -r p; do [ -d "$p" ] || echo "$p"; done)"
[ "$left" = /etc/default/hypermesh ] || fail "dpkg -r left more than the configuration: $left"
[ ! -e /usr/bin/hypermesh ] && [ ! -e "$unit" ] && [ ! -e /usr/share/man/man1/hypermesh.1.gz ] \
    || fail "installed files remain after dpkg -r"
echo "package-test: dpkg -r left only $left"
dpkg -P hypermesh
echo "package-test: passed in $((SECONDS - start)) s (build $((built - start)) s)"
