#!/usr/bin/env bash
# Installs the Debian packages eplink's tests use as real clients (curl, dig, wrk), if missing.
# Idempotent; does nothing when everything is there.
set -euo pipefail
need=()
command -v curl >/dev/null || need+=(curl)
command -v dig  >/dev/null || need+=(dnsutils)
command -v wrk  >/dev/null || need+=(wrk)   # load during the walkthrough's migration
command -v gcc  >/dev/null || need+=(gcc)   # the race detector needs cgo
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  echo ">> installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
