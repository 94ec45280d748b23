#!/usr/bin/env bash
# Installs the Debian packages eplink's tests use as real clients and peers,
# if missing: curl, dig and wrk drive the walkthrough and the CLI tests;
# haproxy, nginx, iperf3, dnsperf and nsd are what the bench harness's
# --quick test compares eplink with; pasta (passt) and slirp4netns are the
# netns scenario's peers; node and npm run the current Node SDK core
# (examples/node) in the walkthrough; chromium is the real browser the
# console's tests drive headless (console/browser_test.go). Idempotent;
# does nothing when all are there.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have curl    || need+=(curl)
have dig     || need+=(dnsutils)
have wrk     || need+=(wrk)
have gcc     || need+=(gcc)   # the race detector needs cgo
have haproxy || need+=(haproxy)
have nginx   || need+=(nginx)
have iperf3  || need+=(iperf3)
have dnsperf || need+=(dnsperf)
have nsd     || need+=(nsd)
have pasta   || need+=(passt)        # the netns scenario's peers
have slirp4netns || need+=(slirp4netns)
have node    || need+=(nodejs)
have npm     || need+=(npm)
have chromium || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root" >&2
  exit 1
fi
echo ">> installing ${need[*]}"
# Debian starts a package's service on install; nginx would then listen on
# every address. A policy-rc.d that says no keeps everything the tests run
# under their own control, on loopback.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
