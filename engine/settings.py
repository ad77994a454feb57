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


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL; SQLite file under instance/ by default, PostgreSQL in production.
    database_url: str = field(default_factory=_default_db)
    #: Folder holding the bundled form-js schemas (`*.form`).
    forms_dir: Path = ROOT / "forms"
    #: Folder holding the bundled procedures (`*.bpmn`, `*.dmn`).
    processes_dir: Path = ROOT / "processes"
    #: Time zone of every deadline and timer.
    timezone: str = "Asia/Ho_Chi_Minh"
    #: Seconds a worker keeps its claim on an instance before another may take it.
    lease_seconds: int = 60
    #: Adapter calls before an incident is raised.
    max_attempts: int = 5
    #: First retry delay in seconds; doubles on each attempt.
    retry_base_seconds: int = 10
    #: Which mail-directory adapter to use: `local` (database) for the embedded default.
    mail_directory: str = "local"
    #: Mail domain for new official addresses.
    mail_domain: str = "dongthap.gov.vn"
    #: Largest accepted upload of one BPMN/DMN/form file, in bytes.
    max_upload_bytes: int = 2 * 1024 * 1024
    #: Working periods of every working day (env WORKING_HOURS="07:30-11:30,13:30-17:00").
    working_hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS
    #: Seconds a process keeps the calendar (with admin overrides) before reading it again;
    #: the process that changed an override re-reads at once (docs/calendar.md).
    calendar_cache_seconds: float = 30.0
    #: Share of a deadline's working time left at which it shows "sắp đến hạn" (0 < share < 1).
    sla_warning_share: float = 0.25

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        base = cls()
        return cls(
            database_url=env.get("DATABASE_URL", base.database_url),
            forms_dir=Path(env.get("FORMS_DIR", str(base.forms_dir))),
            processes_dir=Path(env.get("PROCESSES_DIR", str(base.processes_dir))),
            lease_seconds=int(env.get("WORKER_LEASE_SECONDS", base.lease_seconds)),
            max_attempts=int(env.get("WORKER_MAX_ATTEMPTS", base.max_attempts)),
            retry_base_seconds=int(env.get("WORKER_RETRY_BASE_SECONDS", base.retry_base_seconds)),
            mail_directory=env.get("MAIL_DIRECTORY", base.mail_directory),
            mail_domain=env.get("MAIL_DOMAIN", base.mail_domain),
            working_hours=(parse_working_hours(env["WORKING_HOURS"]) if env.get("WORKING_HOURS")
                           else base.working_hours),
            calendar_cache_seconds=float(env.get("CALENDAR_CACHE_SECONDS", base.calendar_cache_seconds)),
            sla_warning_share=float(env.get("SLA_WARNING_SHARE", base.sla_warning_share)),
        )
