#!/usr/bin/env bash
# Installs the Debian packages the platform and its tests use when missing: chromium for the
# browser tests, LibreOffice Writer (headless) to turn issued documents into PDF, fonts
# with Vietnamese glyphs for those PDFs, and OpenLDAP (slapd, ldap-utils) which the tests of
# the LDAP mail directory start on 127.0.0.1 (the package's own system slapd is not used).
# Runs as part of `make setup`; as a non-root user it only says what to install (the platform
# runs without them: no PDF, DOCX only; MAIL_DIRECTORY=local).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v soffice >/dev/null || missing+=(libreoffice-writer-nogui)
[ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapsearch >/dev/null || missing+=(ldap-utils)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Cài đặt gói hệ thống: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Thiếu gói hệ thống: ${missing[*]} (cài bằng: sudo apt-get install --no-install-recommends ${missing[*]})" >&2
fi
