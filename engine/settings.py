"""Every setting the platform reads from the environment, typed, with its default."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from engine.calendar.working import DEFAULT_HOURS, check_hours

ROOT = Path(__file__).resolve().parent.parent


def _default_db() -> str:
    return f"sqlite:///{ROOT / 'instance' / 'platform.db'}"


def parse_working_hours(text: str) -> tuple[tuple[time, time], ...]:
    """`"07:30-11:30,13:30-17:00"`: the working periods of a day, in order."""
    try:
        periods = [tuple(time.fromisoformat(part.strip()) for part in item.split("-"))
                   for item in text.split(",") if item.strip()]
    except ValueError as err:
        raise ValueError(f"WORKING_HOURS={text!r}: write periods as HH:MM-HH:MM, comma-separated") from err
    if any(len(p) != 2 for p in periods):
        raise ValueError(f"WORKING_HOURS={text!r}: write periods as HH:MM-HH:MM, comma-separated")
    try:
        return check_hours([(p[0], p[1]) for p in periods])
    except ValueError as err:
        raise ValueError(f"WORKING_HOURS={text!r}: {err}") from err


def _flag(text: str | None, default: bool, name: str) -> bool:
    """An on/off variable: 1/true/yes/on or 0/false/no/off (any case); unset keeps the default."""
    if text is None or not text.strip():
        return default
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={text!r}: write 1 or 0")


def _positive(text: str | None, default: int, name: str) -> int:
    """A whole number of at least 1; unset keeps the default."""
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name}={text!r}: write a whole number of at least 1")
    return value


def parse_secrets(text: str) -> tuple[tuple[str, str], ...]:
    """`"zalo=s1,facebook=s2"`: one secret per channel; an item without `=` or with an empty side is refused."""
    secrets: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, secret = item.partition("=")
        if not sep or not name.strip() or not secret.strip():
            raise ValueError("HOTLINE_WEBHOOK_SECRETS: write channel=secret pairs, comma-separated")
        secrets[name.strip().lower()] = secret.strip()
    return tuple(secrets.items())


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL; SQLite file under instance/ by default, PostgreSQL in production.
    database_url: str = field(default_factory=_default_db)
    #: Folder holding the bundled form-js schemas (`*.form`).
    forms_dir: Path = ROOT / "forms"
    #: Folder holding the bundled procedures (`*.bpmn`, `*.dmn`).
    processes_dir: Path = ROOT / "processes"
    #: Folder holding the bundled DOCX document templates (`*.docx`, docs/documents.md).
    templates_dir: Path = ROOT / "processes" / "templates"
    #: Folder holding the statistics report definitions (`*.json`, docs/excel.md).
    reports_dir: Path = ROOT / "processes" / "reports"
    #: Time zone of every deadline and timer.
    timezone: str = "Asia/Ho_Chi_Minh"
    #: Seconds a worker keeps its claim on an instance before another may take it.
    lease_seconds: int = 60
    #: Adapter calls before an incident is raised.
    max_attempts: int = 5
    #: First retry delay in seconds; doubles on each attempt.
    retry_base_seconds: int = 10
    #: Which mail-directory adapter to use: `local` (database, the embedded default) or `ldap`.
    mail_directory: str = "local"
    #: Mail domain for new official addresses.
    mail_domain: str = "dongthap.gov.vn"
    #: LDAP server of the `ldap` mail directory: ldap://host:389 or, in production, ldaps://host:636
    #: (docs/adapters.md).
    ldap_url: str = "ldap://127.0.0.1:389"
    #: DN the platform binds as: a service account allowed to write below `ldap_base_dn` only.
    ldap_bind_dn: str = ""
    #: Password of `ldap_bind_dn` (env LDAP_BIND_PASSWORD; never logged).
    ldap_bind_password: str = field(default="", repr=False)
    #: Subtree holding the mailboxes: personal ones under ou=people, collective ones under ou=collective.
    ldap_base_dn: str = "dc=dongthap,dc=gov,dc=vn"
    #: Connect and response timeout of one LDAP request, in seconds.
    ldap_timeout_seconds: float = 10.0
    #: How passwords are hashed before they reach the directory: ARGON2 (slapd's argon2 module) or SSHA.
    ldap_hash_scheme: str = "ARGON2"
    #: CA certificate file (PEM) checking an ldaps:// server; "" = the system's trusted CAs.
    ldap_ca_file: str = ""
    #: Base URL of the project-software (Quản lý tiến độ dự án) user API; "" = not configured,
    #: and its calls fail until it is (docs/adapters.md).
    project_software_url: str = ""
    #: Bearer token the project software expects (env PROJECT_SOFTWARE_TOKEN; never logged).
    project_software_token: str = field(default="", repr=False)
    #: Connect and read timeout of one request to the project software, in seconds.
    project_software_timeout_seconds: float = 10.0
    #: Which videoconference MCU adapter to use (env MCU): `local` (rooms and accounts recorded in the
    #: platform's database, the embedded default) or `http` (an MCU or its gateway, docs/adapters.md).
    mcu: str = "local"
    #: Base URL of the `http` MCU's API (env MCU_URL); "" = not configured, and its calls fail until it is.
    mcu_url: str = ""
    #: Bearer token the MCU expects (env MCU_TOKEN; never logged).
    mcu_token: str = field(default="", repr=False)
    #: Connect and read timeout of one request to the MCU, in seconds (env MCU_TIMEOUT_SECONDS).
    mcu_timeout_seconds: float = 10.0
    #: Endpoints the MCU carries at once (env MCU_CAPACITY): the meeting calendar's conflict check, and
    #: the largest room the `local` MCU creates.
    mcu_capacity: int = 40
    #: Largest accepted upload of one BPMN/DMN/form file, in bytes.
    max_upload_bytes: int = 2 * 1024 * 1024
    #: Working periods of every working day (env WORKING_HOURS="07:30-11:30,13:30-17:00").
    working_hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS
    #: Seconds a process keeps the calendar (with admin overrides) before reading it again;
    #: the process that changed an override re-reads at once (docs/calendar.md).
    calendar_cache_seconds: float = 30.0
    #: Share of a deadline's working time left at which it shows "sắp đến hạn" (0 < share < 1).
    sla_warning_share: float = 0.25
    #: Largest accepted Excel (.xlsx) upload for a form's table, in bytes (env MAX_EXCEL_BYTES).
    max_excel_bytes: int = 2 * 1024 * 1024
    #: Largest accepted file in a form's file field (the scanned dossier), in bytes (env
    #: MAX_ATTACHMENT_BYTES); a task's files together may take five times this (docs/modeling.md).
    max_attachment_bytes: int = 10 * 1024 * 1024
    #: Cơ quan chủ quản printed above the issuing body on official documents (env ORG_PARENT_NAME).
    org_parent_name: str = "ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP"
    #: Cơ quan ban hành: the body issuing the documents (env ORG_NAME).
    org_name: str = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    #: Địa danh of the date line "Đồng Tháp, ngày … tháng … năm …" (env ORG_PLACE).
    org_place: str = "Đồng Tháp"
    #: LibreOffice `soffice` for PDF copies (env SOFFICE); "" = look it up on PATH, "off" = no PDF.
    soffice_path: str = ""
    #: Seconds one DOCX → PDF conversion may take before it is abandoned (the DOCX is kept).
    pdf_timeout_seconds: int = 60
    #: How notifications reach people (env NOTIFICATIONS): `local` keeps them in the platform, where the
    #: recipient reads them under "Thông báo"; `smtp` sends e-mail (docs/adapters.md).
    notifications: str = "local"
    #: SMTP server of the `smtp` channel (env SMTP_HOST, SMTP_PORT).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    #: Sender address of the platform's e-mail (env SMTP_FROM).
    smtp_from: str = "quytrinh@dongthap.gov.vn"
    #: Account the platform logs in with, if the server asks for one (env SMTP_USER; "" = no login).
    smtp_user: str = ""
    #: Its password (env SMTP_PASSWORD; never logged).
    smtp_password: str = field(default="", repr=False)
    #: Upgrade the connection with STARTTLS before sending (env SMTP_STARTTLS=1), the server's
    #: certificate checked against the system's trusted CAs.
    smtp_starttls: bool = False
    #: Connect and response timeout of the SMTP server, in seconds (env SMTP_TIMEOUT_SECONDS).
    smtp_timeout_seconds: float = 10.0
    #: The address people use to reach the platform, for links in notifications (env PUBLIC_BASE_URL).
    public_base_url: str = "http://127.0.0.1:5000"
    #: Hours a one-time password link stays valid (env CREDENTIAL_LINK_HOURS).
    credential_link_hours: int = 72
    #: Code of the unit that evaluates DTI rounds and keeps the index sets (env DTI_EVALUATOR_UNIT): its
    #: experts and leaders score, rank and report (Sở TT&TT in QĐ 810; docs/dti.md).
    dti_evaluator_unit: str = "sttt"
    #: Code of the unit whose leader approves the ranking (env DTI_APPROVER_UNIT): UBND tỉnh.
    dti_approver_unit: str = "ubnd_tinh"
    #: IMAP mailbox the hotline 1022 reads citizens' e-mail from (env HOTLINE_IMAP_HOST; "" = no e-mail
    #: channel). Port, account, password, TLS and folder as below (docs/hotline.md).
    hotline_imap_host: str = ""
    hotline_imap_port: int = 993
    hotline_imap_user: str = ""
    hotline_imap_password: str = field(default="", repr=False)
    #: Connect with TLS from the start (IMAPS, env HOTLINE_IMAP_TLS=1, the default); 0 = plain IMAP, for a
    #: server on the same machine only.
    hotline_imap_tls: bool = True
    hotline_imap_folder: str = "INBOX"
    #: Seconds between two reads of the mailbox by the worker (env HOTLINE_IMAP_POLL_SECONDS).
    hotline_imap_poll_seconds: int = 60
    #: Shared secrets of the chat channels' webhook (env HOTLINE_WEBHOOK_SECRETS="zalo=…,facebook=…,chat=…"):
    #: a channel without a secret refuses every call (docs/hotline.md).
    hotline_webhook_secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: Seconds a webhook call's timestamp may differ from the server's clock (env HOTLINE_WEBHOOK_WINDOW_SECONDS).
    hotline_webhook_window_seconds: int = 300
    #: Reverse proxies in front of the web app that set X-Forwarded-For/-Proto/-Host (env PROXY_HOPS; 0 = none):
    #: the client's address (the public form's rate limit) is then read from those headers, trusting that many.
    proxy_hops: int = 0
    #: Wrong passwords one account may receive in LOGIN_LOCK_MINUTES before it is locked for the rest of that
    #: period (env LOGIN_MAX_FAILURES); one address may fail four times as often across accounts.
    login_max_failures: int = 5
    #: Length of the period failed sign-ins are counted in, in minutes (env LOGIN_LOCK_MINUTES).
    login_lock_minutes: int = 15
    #: Contacts one address may send through the public form per hour (env HOTLINE_PUBLIC_PER_HOUR).
    hotline_public_per_hour: int = 5
    #: Ticket lookups one address may make per hour on the public page (env HOTLINE_LOOKUP_PER_HOUR).
    hotline_lookup_per_hour: int = 30

    def webhook_secret(self, channel: str) -> str:
        """The shared secret of one chat channel's webhook; "" when none is set."""
        return dict(self.hotline_webhook_secrets).get(channel, "")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        base = cls()
        return cls(
            database_url=env.get("DATABASE_URL", base.database_url),
            forms_dir=Path(env.get("FORMS_DIR", str(base.forms_dir))),
            processes_dir=Path(env.get("PROCESSES_DIR", str(base.processes_dir))),
            templates_dir=Path(env.get("TEMPLATES_DIR", str(base.templates_dir))),
            reports_dir=Path(env.get("REPORTS_DIR", str(base.reports_dir))),
            lease_seconds=int(env.get("WORKER_LEASE_SECONDS", base.lease_seconds)),
            max_attempts=int(env.get("WORKER_MAX_ATTEMPTS", base.max_attempts)),
            retry_base_seconds=int(env.get("WORKER_RETRY_BASE_SECONDS", base.retry_base_seconds)),
            mail_directory=env.get("MAIL_DIRECTORY", base.mail_directory),
            mail_domain=env.get("MAIL_DOMAIN", base.mail_domain),
            ldap_url=env.get("LDAP_URL", base.ldap_url),
            ldap_bind_dn=env.get("LDAP_BIND_DN", base.ldap_bind_dn),
            ldap_bind_password=env.get("LDAP_BIND_PASSWORD", base.ldap_bind_password),
            ldap_base_dn=env.get("LDAP_BASE_DN", base.ldap_base_dn),
            ldap_timeout_seconds=float(env.get("LDAP_TIMEOUT_SECONDS", base.ldap_timeout_seconds)),
            ldap_hash_scheme=env.get("LDAP_HASH_SCHEME", base.ldap_hash_scheme).upper(),
            ldap_ca_file=env.get("LDAP_CA_FILE", base.ldap_ca_file),
            project_software_url=env.get("PROJECT_SOFTWARE_URL", base.project_software_url),
            project_software_token=env.get("PROJECT_SOFTWARE_TOKEN", base.project_software_token),
            project_software_timeout_seconds=float(env.get("PROJECT_SOFTWARE_TIMEOUT_SECONDS",
                                                           base.project_software_timeout_seconds)),
            mcu=env.get("MCU", base.mcu).strip().lower(),
            mcu_url=env.get("MCU_URL", base.mcu_url).strip(),
            mcu_token=env.get("MCU_TOKEN", base.mcu_token),
            mcu_timeout_seconds=float(env.get("MCU_TIMEOUT_SECONDS", base.mcu_timeout_seconds)),
            mcu_capacity=_positive(env.get("MCU_CAPACITY"), base.mcu_capacity, "MCU_CAPACITY"),
            working_hours=(parse_working_hours(env["WORKING_HOURS"]) if env.get("WORKING_HOURS")
                           else base.working_hours),
            calendar_cache_seconds=float(env.get("CALENDAR_CACHE_SECONDS", base.calendar_cache_seconds)),
            sla_warning_share=float(env.get("SLA_WARNING_SHARE", base.sla_warning_share)),
            max_excel_bytes=int(env.get("MAX_EXCEL_BYTES", base.max_excel_bytes)),
            max_attachment_bytes=int(env.get("MAX_ATTACHMENT_BYTES", base.max_attachment_bytes)),
            org_parent_name=env.get("ORG_PARENT_NAME", base.org_parent_name),
            org_name=env.get("ORG_NAME", base.org_name),
            org_place=env.get("ORG_PLACE", base.org_place),
            soffice_path=env.get("SOFFICE", base.soffice_path),
            pdf_timeout_seconds=int(env.get("PDF_TIMEOUT_SECONDS", base.pdf_timeout_seconds)),
            notifications=env.get("NOTIFICATIONS", base.notifications).strip().lower(),
            smtp_host=env.get("SMTP_HOST", base.smtp_host),
            smtp_port=int(env.get("SMTP_PORT", base.smtp_port)),
            smtp_from=env.get("SMTP_FROM", base.smtp_from),
            smtp_user=env.get("SMTP_USER", base.smtp_user),
            smtp_password=env.get("SMTP_PASSWORD", base.smtp_password),
            smtp_starttls=_flag(env.get("SMTP_STARTTLS"), base.smtp_starttls, "SMTP_STARTTLS"),
            smtp_timeout_seconds=float(env.get("SMTP_TIMEOUT_SECONDS", base.smtp_timeout_seconds)),
            public_base_url=env.get("PUBLIC_BASE_URL", base.public_base_url).strip().rstrip("/"),
            credential_link_hours=int(env.get("CREDENTIAL_LINK_HOURS", base.credential_link_hours)),
            dti_evaluator_unit=env.get("DTI_EVALUATOR_UNIT", base.dti_evaluator_unit).strip(),
            dti_approver_unit=env.get("DTI_APPROVER_UNIT", base.dti_approver_unit).strip(),
            hotline_imap_host=env.get("HOTLINE_IMAP_HOST", base.hotline_imap_host).strip(),
            hotline_imap_port=_positive(env.get("HOTLINE_IMAP_PORT"), base.hotline_imap_port, "HOTLINE_IMAP_PORT"),
            hotline_imap_user=env.get("HOTLINE_IMAP_USER", base.hotline_imap_user),
            hotline_imap_password=env.get("HOTLINE_IMAP_PASSWORD", base.hotline_imap_password),
            hotline_imap_tls=_flag(env.get("HOTLINE_IMAP_TLS"), base.hotline_imap_tls, "HOTLINE_IMAP_TLS"),
            hotline_imap_folder=env.get("HOTLINE_IMAP_FOLDER", base.hotline_imap_folder).strip() or "INBOX",
            hotline_imap_poll_seconds=_positive(env.get("HOTLINE_IMAP_POLL_SECONDS"), base.hotline_imap_poll_seconds,
                                                "HOTLINE_IMAP_POLL_SECONDS"),
            hotline_webhook_secrets=parse_secrets(env.get("HOTLINE_WEBHOOK_SECRETS", "")),
            hotline_webhook_window_seconds=_positive(env.get("HOTLINE_WEBHOOK_WINDOW_SECONDS"),
                                                     base.hotline_webhook_window_seconds,
                                                     "HOTLINE_WEBHOOK_WINDOW_SECONDS"),
            login_max_failures=_positive(env.get("LOGIN_MAX_FAILURES"), base.login_max_failures, "LOGIN_MAX_FAILURES"),
            login_lock_minutes=_positive(env.get("LOGIN_LOCK_MINUTES"), base.login_lock_minutes, "LOGIN_LOCK_MINUTES"),
            proxy_hops=int(env.get("PROXY_HOPS", base.proxy_hops) or 0),
            hotline_public_per_hour=_positive(env.get("HOTLINE_PUBLIC_PER_HOUR"), base.hotline_public_per_hour,
                                              "HOTLINE_PUBLIC_PER_HOUR"),
            hotline_lookup_per_hour=_positive(env.get("HOTLINE_LOOKUP_PER_HOUR"), base.hotline_lookup_per_hour,
                                              "HOTLINE_LOOKUP_PER_HOUR"),
        )
