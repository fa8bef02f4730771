#!/usr/bin/env bash
# Installs what the data-plane benchmark compares against and drives it with, when missing:
# nginx (the plain reverse proxy and the fixed backend) and wrk (the load generator), from Debian's
# packages. Prints where they are.
set -euo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  echo "[bench-tools] installing ${need[*]} from Debian's packages" >&2
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2 \
    || { $sudo_ apt-get update -q >&2 && $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2; }
  # The package starts a system nginx on port 80; the benchmark runs its own.
  $sudo_ nginx -s stop >/dev/null 2>&1 || true
fi
echo "[bench-tools] nginx: $(command -v nginx || echo /usr/sbin/nginx), wrk: $(command -v wrk)" >&2
