#!/usr/bin/env bash
# Installs the Debian packages the platform and its tests use when missing: chromium for the
# browser tests, LibreOffice Writer (headless) to turn issued documents into PDF, fonts
# with Vietnamese glyphs for those PDFs, and OpenLDAP (slapd, ldap-utils) which the tests of
# the LDAP mail directory start on 127.0.0.1 (the package's own system slapd is not used), and
# Dovecot (dovecot-core, dovecot-imapd), the IMAP server the tests of the hotline's e-mail channel
# start on 127.0.0.1 with their own configuration (the package's system service is stopped).
# Runs as part of `make setup`; as a non-root user it only says what to install (the platform
# runs without them: no PDF, DOCX only; MAIL_DIRECTORY=local).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v soffice >/dev/null || missing+=(libreoffice-writer-nogui)
[ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapsearch >/dev/null || missing+=(ldap-utils)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-core)
[ -x /usr/lib/dovecot/imap-login ] || missing+=(dovecot-imapd)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Cài đặt gói hệ thống: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # A system Dovecot started by the package would hold ports 143/993 for nothing: the tests run their own.
  if [[ " ${missing[*]} " == *" dovecot-"* ]]; then
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl disable --now dovecot >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/dovecot ]; then
      /etc/init.d/dovecot stop >/dev/null 2>&1 || true
    fi
  fi
else
  echo "Thiếu gói hệ thống: ${missing[*]} (cài bằng: sudo apt-get install --no-install-recommends ${missing[*]})" >&2
fi
