#!/usr/bin/env bash
# Install the system packages the bench needs (run as root; idempotent).
#
# - rsync, openssh-server, iproute2, procps from the machine's own suite (bookworm).
# - runc from the machine's own suite: each bench host's OCI container (bench/harness/containers.py).
# - python3-libtorrent (2.0.8 on bookworm) for the system python3: the bench's p2p strategy runs its
#   BitTorrent seeder and host agents under /usr/bin/python3 (bench/deploy/p2p*.py).
# - prometheus (2.42, with promtool) from the machine's own suite, for the live-Prometheus backtest
#   tests (they start their own server on 127.0.0.1 over a backfilled TSDB; the packaged service is
#   never used).
# - chromium from the machine's own suite, for the report's browser tests (tests/report/test_browser.py
#   runs it headless, with a throw-away profile, over the DevTools protocol on a pipe).
# - Consul 1.8.7 from Debian 11 (bullseye), package `consul`. The bullseye source reuses the mirror
#   URI that this machine's apt sources already name for the main Debian archive (read at run time;
#   no host name is written in the repo). An apt preferences pin lets ONLY `consul` come from
#   bullseye; everything else stays on the machine's own suite.
# - Services shipped by the packages are not started (policy-rc.d denies, then we stop any).
#
# Afterwards `consul version` prints 1.8.7; the bench finds it via CONSUL_BIN or PATH; `prometheus` and
# `promtool` are on PATH, and so is `chromium`.
# Quick no-op when everything is already there (the test script calls it on every run); --force redoes it.
set -euo pipefail

CONSUL_VERSION="1.8.7"
SRC_FILE=/etc/apt/sources.list.d/deploysim-bullseye.sources
PIN_FILE=/etc/apt/preferences.d/deploysim-bullseye-consul

log() { printf 'install-system-deps: %s\n' "$*" >&2; }

need_root() {
    if [ "$(id -u)" != 0 ]; then
        log "must run as root"; exit 1
    fi
}

# Print the first URI that serves the main Debian archive (not -security, not our own file).
main_archive_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        [ "$f" = "$SRC_FILE" ] && continue
        # deb822: walk stanzas; keep a URI whose stanza's Suites has a suite without '-security'.
        uri=$(awk '
            BEGIN { RS=""; FS="\n" }
            {
                u=""; s=""; t=""
                for (i=1; i<=NF; i++) {
                    if ($i ~ /^URIs:/)   { u=$i; sub(/^URIs:[ \t]*/, "", u) }
                    if ($i ~ /^Suites:/) { s=$i; sub(/^Suites:[ \t]*/, "", s) }
                    if ($i ~ /^Types:/)  { t=$i }
                }
                if (t !~ /deb([ \t]|$)/) next
                if (u ~ /security/ || s == "") next
                n=split(s, a, /[ \t]+/)
                for (j=1; j<=n; j++) if (a[j] !~ /-security$/ && a[j] != "") { split(u, b, /[ \t]+/); print b[1]; exit }
            }' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return 0; fi
    done
    if [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1=="deb" {
                  i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                  if ($(i) ~ /security/ || $(i+1) ~ /-security$/) next
                  print $(i); exit }' /etc/apt/sources.list)
        if [ -n "$uri" ]; then echo "$uri"; return 0; fi
    fi
    return 1
}

keyring_opt() {
    if [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
        echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    fi
}

write_bullseye_source() {
    local uri="$1"
    cat >"$SRC_FILE" <<EOF
# Added by deploysim scripts/install-system-deps.sh: only for the consul package (see $PIN_FILE).
Types: deb
URIs: $uri
Suites: bullseye
Components: main
$(keyring_opt)
EOF
    cat >"$PIN_FILE" <<'EOF'
# Added by deploysim scripts/install-system-deps.sh: nothing comes from bullseye but consul.
Package: *
Pin: release n=bullseye
Pin-Priority: -10

Package: consul
Pin: release n=bullseye
Pin-Priority: 990
EOF
}

deny_service_starts() {
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
}

consul_ok() {
    # No `| grep -q` here: with pipefail, grep quitting early can fail the pipe by SIGPIPE.
    local out
    command -v consul >/dev/null 2>&1 || return 1
    out=$(consul version 2>/dev/null) || return 1
    case "$out" in *"Consul v${CONSUL_VERSION}"*) return 0 ;; esac
    return 1
}

# Fall back: download the .deb and unpack only the binary (when install fights dependencies).
unpack_consul() {
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download "consul=${CONSUL_VERSION}*")
    dpkg-deb -x "$tmp"/consul_*.deb "$tmp/x"
    install -m 755 "$tmp/x/usr/bin/consul" /usr/local/bin/consul
    rm -rf "$tmp"
}

stop_services() {
    local s
    for s in consul ssh rsync prometheus; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$s" 2>/dev/null; then
            systemctl stop "$s" || true
        fi
    done
    # Without systemd the package's postinst starts /etc/init.d/prometheus unless policy-rc.d denies it.
    if [ -x /etc/init.d/prometheus ] && [ -e /run/prometheus/prometheus.pid ]; then
        /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
}

prometheus_ok() {
    command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
}

chromium_ok() {
    command -v chromium >/dev/null 2>&1
}

all_present() {
    consul_ok && [ -f "$SRC_FILE" ] && [ -f "$PIN_FILE" ] && command -v rsync >/dev/null \
        && [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ip >/dev/null && command -v ps >/dev/null && command -v runc >/dev/null \
        && /usr/bin/python3 -c 'import libtorrent' 2>/dev/null \
        && prometheus_ok && chromium_ok
}

main() {
    need_root
    if all_present && [ "${1:-}" != "--force" ]; then
        log "already installed (use --force to reinstall): consul ${CONSUL_VERSION}, python3-libtorrent, prometheus, chromium"
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    local uri
    uri=$(main_archive_uri) || { log "no main Debian archive URI found in apt sources"; exit 1; }
    log "bullseye source from the machine's main archive mirror"
    write_bullseye_source "$uri"
    deny_service_starts
    apt-get update -q
    apt-get install -y -q --no-install-recommends rsync openssh-server openssh-client iproute2 procps runc python3-libtorrent prometheus chromium
    if ! consul_ok; then
        apt-get install -y -q --no-install-recommends "consul=${CONSUL_VERSION}*" || unpack_consul
    fi
    stop_services
    consul_ok || { log "consul ${CONSUL_VERSION} not found after install"; exit 1; }
    prometheus_ok || { log "prometheus/promtool not found after install"; exit 1; }
    chromium_ok || { log "chromium not found after install"; exit 1; }
    log "installed: consul ${CONSUL_VERSION}, $(prometheus --version 2>&1 | sed -n 1p), $(chromium --version 2>/dev/null)"
}

main "$@"
