#!/usr/bin/env bash
# Installs the Debian packages the browser tests need (chromium) when missing.
# Runs as part of `make setup`; as a non-root user it only says what to install.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Cài đặt gói hệ thống: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Thiếu gói hệ thống: ${missing[*]} (cài bằng: sudo apt-get install ${missing[*]})" >&2
fi
