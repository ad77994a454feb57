"""SQLAlchemy 2 models shared by the web app and the worker."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus, TaskStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _enum(cls: type) -> Enum:
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=20)


class Base(DeclarativeBase):
    # Matches the constraint names the migrations create, so create_all agrees with them.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Unit(Base):
    """Cơ quan, đơn vị."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    #: Where the platform's notifications to this person go (one-time password links among them).
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    unit: Mapped[Unit] = relationship(lazy="joined")
    roles: Mapped[list[UserRole]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def role_codes(self) -> set[str]:
        return {r.role for r in self.roles}

    # The session-login protocol (is_authenticated, is_anonymous, get_id), without importing it.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        return str(self.id)


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class ApiToken(Base):
    """Bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    user: Mapped[User] = relationship(lazy="joined")


class ProcedureVersion(Base):
    """An immutable, numbered version of a procedure with everything it needs to run."""

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_json: Mapped[str] = mapped_column(Text)
    #: The process element's camunda:properties (e.g. `deadline`), read at publishing.
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (Index("ix_instances_due", "status", "wake_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"), index=True)
    status: Mapped[InstanceStatus] = mapped_column(_enum(InstanceStatus), default=InstanceStatus.RUNNING)
    title: Mapped[str] = mapped_column(String(255), default="")
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    initiator_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    state_json: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    wake_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Total deadline of the dossier (the procedure's `deadline` property), in working time.
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    #: While the requester supplements the dossier the clock stops; set when paused.
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: How a finished instance met its deadline: truoc_han, dung_han or qua_han.
    sla_outcome: Mapped[str | None] = mapped_column(String(20))
    #: The instance's current plain variables (text, numbers, dates; no lists), refreshed on every
    #: save, for statistics and exports without restoring the workflow (engine.bpmn.runtime.facts).
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[ProcedureVersion] = relationship(lazy="joined")
    initiator: Mapped[User] = relationship(foreign_keys=[initiator_id], lazy="joined")
    initiator_unit: Mapped[Unit] = relationship(lazy="joined")

    # Every UPDATE checks the revision read: concurrent changes fail instead of overwriting.
    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - SQLAlchemy reads it as is


class HumanTask(Base):
    """A ready (or finished) user task, indexed for the tasklist."""

    __tablename__ = "human_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    form_key: Mapped[str | None] = mapped_column(String(128))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.READY, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    instance: Mapped[ProcessInstance] = relationship(lazy="joined")
    candidates: Mapped[list[TaskCandidate]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class ServiceCall(Base):
    """One external-task execution, keyed for idempotency across retries and workers."""

    __tablename__ = "service_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    element_id: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(128))
    status: Mapped[CallStatus] = mapped_column(_enum(CallStatus), default=CallStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: After a failed attempt: not before this moment (backoff); the instance's wake-up
    #: time is the earliest of these and its timers.
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(128))
    topic: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[IncidentStatus] = mapped_column(_enum(IncidentStatus), default=IncidentStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    """Who did what, when, with the data before and after (secrets never stored)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(String(500), default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)


class MailAccount(Base):
    """The `local` mail-directory adapter's store: one official mailbox."""

    __tablename__ = "mail_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    unit_name: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(16), default="ca_nhan")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AdapterOperation(Base):
    """Result of an adapter operation by idempotency key: a retry returns it unchanged."""

    __tablename__ = "adapter_operations"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    adapter: Mapped[str] = mapped_column(String(64))
    result: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TaskCandidate(Base):
    """Who may do a task: a role, optionally within one unit (`unit:role`)."""

    __tablename__ = "task_candidates"
    __table_args__ = (Index("ix_candidates_role_unit", "role", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), index=True)
    # No foreign key: -1 marks a unit code that did not resolve (nobody may take the task).
    unit_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))



class CalendarOverride(Base):
    """An admin's correction to the national calendar: a province's day off or a swapped working day."""

    __tablename__ = "calendar_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(255))
    decision: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProcedureSchedule(Base):
    """A procedure whose process begins with a timer start event: when it next starts an instance.

    One per procedure, replaced when a new version is published. The worker claims due rows by
    `next_run_at` (indexed), like instances by `wake_at`; `next_run_at` is None once the timer
    has no repetition left.
    """

    __tablename__ = "procedure_schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(128), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    element_id: Mapped[str] = mapped_column(String(128))
    #: The timer as the author wrote it, for people reading the schedule.
    expression: Mapped[str] = mapped_column(Text)
    #: Instances started by the schedule are initiated by the publisher, for this unit.
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    #: Starts left; -1 repeats without end; None until the worker first evaluates the timer.
    remaining: Mapped[int | None] = mapped_column(Integer)
    #: Between starts; None for a timer that fires once.
    period_seconds: Mapped[int | None] = mapped_column(Integer)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProcedureFile(Base):
    """A file published with a version besides its diagram and forms: a DOCX document template."""

    __tablename__ = "procedure_files"
    __table_args__ = (UniqueConstraint("version_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DocumentRegister(Base):
    """Sổ đăng ký văn bản: one gap-free number sequence per register, issuing unit and year.

    A number is taken by incrementing `last_number` in the transaction that stores the document,
    so a rolled-back issue gives its number back.
    """

    __tablename__ = "document_registers"
    __table_args__ = (UniqueConstraint("issuer", "register", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Code of the issuing unit, as in the ký hiệu (e.g. TTCĐS, STTTT).
    issuer: Mapped[str] = mapped_column(String(64))
    #: Which sequence: by default the document type code (TB, BC, CV).
    register: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Document(Base):
    """An official document issued by a step of an instance: the DOCX, and the PDF when made."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("register_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(128))
    #: The service call's idempotency key: a retried step finds its document instead of issuing another.
    call_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    register_id: Mapped[int | None] = mapped_column(ForeignKey("document_registers.id"))
    number: Mapped[int | None] = mapped_column(Integer)
    #: Số và ký hiệu as printed, e.g. "12/TB-TTCĐS".
    reference: Mapped[str] = mapped_column(String(100), default="")
    #: Type code (CV công văn, TB thông báo, BC báo cáo).
    doc_type: Mapped[str] = mapped_column(String(32), default="")
    #: Trích yếu nội dung (V/v …).
    title: Mapped[str] = mapped_column(String(500), default="")
    template: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    docx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CredentialLink(Base):
    """A one-time, expiring link that hands a generated password to its owner.

    Only the SHA-256 of the link's token is kept; the password is sealed with a keystream derived
    from the token itself (`sealed`), so the database alone cannot reveal it. Opening the link
    once, or its expiry, clears `sealed`.
    """

    __tablename__ = "credential_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The adapter operation's idempotency key: a replayed operation does not issue a second link.
    call_key: Mapped[str] = mapped_column(String(160), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    #: Which system the password is for: `mail_directory` or `project_software`.
    system: Mapped[str] = mapped_column(String(32))
    #: The account (an address) the password opens.
    account: Mapped[str] = mapped_column(String(255))
    #: Who the link was sent to.
    recipient: Mapped[str] = mapped_column(String(255))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Notification(Base):
    """A message the platform sent (or, with the `local` channel, keeps for the recipient to read)."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Idempotency: a retried send with the same key does not send twice.
    key: Mapped[str | None] = mapped_column(String(160), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    #: The text; kept only for the `local` channel (SMTP messages may carry one-time links).
    body: Mapped[str] = mapped_column(Text, default="")
    #: `local` or `smtp`.
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Attachment(Base):
    """A file uploaded into a form (e.g. the scanned dossier), kept with its task and instance."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The random reference the form data holds for this file.
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Meeting(Base):
    """A videoconference on the meeting calendar, kept in step with the instance that runs it.

    Written by engine.services.meetings each time a meeting procedure's instance is saved (from its
    variables noi_dung, cap_hop, ngay_hop, gio_bat_dau, …); read by the calendar, conflict checks,
    invitations and statistics without restoring the workflow.
    """

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    process_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    #: Cấp họp: noi_tinh, chuyen_tiep, tinh_huyen, huyen_xa, tinh_huyen_xa, tw_tinh, tw_tinh_huyen, tw_tinh_huyen_xa.
    level: Mapped[str] = mapped_column(String(32), default="")
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The main endpoint's room (địa điểm, điểm cầu chính).
    room: Mapped[str] = mapped_column(String(255), default="")
    host_unit: Mapped[str] = mapped_column(String(255), default="")
    #: Endpoints the MCU carries: the main one plus each satellite endpoint.
    endpoints: Mapped[int] = mapped_column(Integer, default=1)
    #: dang_ky, da_xac_nhan, tu_choi, hoan, huy, dang_hop, da_hop.
    state: Mapped[str] = mapped_column(String(16), default="dang_ky")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class MeetingInvitation(Base):
    """A unit invited to a meeting and its answer: the endpoint chair's name and title, or a reason."""

    __tablename__ = "meeting_invitations"
    __table_args__ = (UniqueConstraint("meeting_id", "unit_id", name="uq_meeting_invitations_meeting_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: cho_xac_nhan, tham_du, tu_choi.
    status: Mapped[str] = mapped_column(String(16), default="cho_xac_nhan")
    chair_name: Mapped[str] = mapped_column(String(255), default="")
    chair_title: Mapped[str] = mapped_column(String(255), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    invited_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    responded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class McuRoom(Base):
    """The `local` MCU adapter's store: a virtual meeting room."""

    __tablename__ = "mcu_rooms"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class McuAccount(Base):
    """The `local` MCU adapter's store: one endpoint's personal account in a virtual room."""

    __tablename__ = "mcu_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("mcu_rooms.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# ---------------------------------------------------------------- digital transformation index (DTI)


class DtiIndexSet(Base):
    """Bộ chỉ số đánh giá chuyển đổi số of one year, imported from Excel (engine.services.dti_index).

    `state`: du_thao (corrected or re-imported freely), dang_ap_dung (a round uses it: frozen),
    da_dong (its round was published).
    """

    __tablename__ = "dti_index_sets"
    __table_args__ = (UniqueConstraint("year", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="du_thao")
    #: The imported workbook's name and SHA-256, to tell which file a set came from.
    source_file: Mapped[str] = mapped_column(String(255), default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DtiIndicator(Base):
    """One indicator of an index set; a parent's maximum is the sum of its children's (per unit group)."""

    __tablename__ = "dti_indicators"
    __table_args__ = (UniqueConstraint("index_set_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    index_set_id: Mapped[int] = mapped_column(ForeignKey("dti_index_sets.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    #: Nhóm chỉ số (trụ cột) the indicator belongs to, as the file names it.
    group_name: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    #: Điểm tối đa in hundredths of a point.
    max_points: Mapped[int] = mapped_column(Integer)
    #: diem, muc (full/half/zero) or ty_le (engine.domain.dti.ScoringMethod).
    method: Mapped[str] = mapped_column(String(16))
    method_text: Mapped[str] = mapped_column(Text, default="")
    #: Tài liệu kiểm chứng expected; when set, a score above 0 needs at least one evidence file.
    evidence_text: Mapped[str] = mapped_column(Text, default="")
    #: Unit groups it applies to, comma-separated codes (so_nganh,huyen,xa).
    applies_to: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    is_leaf: Mapped[bool] = mapped_column(Boolean, default=True)


class DtiRound(Base):
    """Kỳ đánh giá: one index set, the participating units, the self-assessment deadline, its instance."""

    __tablename__ = "dti_rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    index_set_id: Mapped[int] = mapped_column(ForeignKey("dti_index_sets.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    year: Mapped[int] = mapped_column(Integer, index=True)
    #: engine.domain.dti.RoundState, kept in step with the instance (engine.services.dti_rounds.sync).
    state: Mapped[str] = mapped_column(String(20), default="dang_danh_gia")
    #: Hạn nộp báo cáo tự đánh giá.
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    #: The dti_assessment instance; set in the transaction that opens the round.
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    #: Who evaluates (Sở TT&TT) and who approves (UBND tỉnh): units, as organisation is data.
    evaluator_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    approver_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Số và ngày of the decision approving and publishing the ranking.
    decision_number: Mapped[str] = mapped_column(String(100), default="")
    decision_date: Mapped[date | None] = mapped_column(Date)


class DtiRoundUnit(Base):
    """A unit taking part in a round, its ranking group and where its sheet stands."""

    __tablename__ = "dti_round_units"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("dti_rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: so_nganh, huyen or xa (engine.domain.dti.UnitGroup).
    unit_group: Mapped[str] = mapped_column(String(16))
    #: engine.domain.dti.UnitPhase.
    phase: Mapped[str] = mapped_column(String(24), default="tu_danh_gia")
    #: The unit's ready task of the instance (None once its scores are settled).
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The deadline passed before the unit submitted its self-assessment.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DtiScore(Base):
    """One unit's scores on one leaf indicator: its own, the expert's, and its one response."""

    __tablename__ = "dti_scores"
    __table_args__ = (UniqueConstraint("round_unit_id", "indicator_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_unit_id: Mapped[int] = mapped_column(ForeignKey("dti_round_units.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("dti_indicators.id"))
    #: Hundredths of a point, None until scored.
    self_score: Mapped[int | None] = mapped_column(Integer)
    self_note: Mapped[str] = mapped_column(Text, default="")
    self_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    self_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expert_score: Mapped[int | None] = mapped_column(Integer)
    #: Lý do điều chỉnh (required when the expert's score differs from the unit's).
    expert_reason: Mapped[str] = mapped_column(Text, default="")
    expert_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expert_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    response: Mapped[str | None] = mapped_column(Text)
    response_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DtiScoreChange(Base):
    """History of a score line: every change with who, when, the values before and after, and why."""

    __tablename__ = "dti_score_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("dti_scores.id"), index=True)
    #: engine.domain.dti.ChangeKind.
    kind: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[int | None] = mapped_column(Integer)
    new_value: Mapped[int | None] = mapped_column(Integer)
    #: The note, the reason, the response, or the evidence file's name.
    text: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DtiEvidence(Base):
    """Tài liệu kiểm chứng: a file of the round's instance (attachments, no task) for one unit's indicator."""

    __tablename__ = "dti_evidence"
    __table_args__ = (Index("ix_dti_evidence_round_unit_indicator", "round_unit_id", "indicator_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_unit_id: Mapped[int] = mapped_column(ForeignKey("dti_round_units.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("dti_indicators.id"))
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), unique=True)
    #: The phase it was added in (tu_danh_gia, or phan_hoi for a response's supporting file).
    phase: Mapped[str] = mapped_column(String(24))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KbArticle(Base):
    """Cơ sở dữ liệu hỏi đáp of the hotline 1022: a question and its answer in one field (engine.domain.hotline).

    `search_question` and `search_text` are the question, and the question with the answer and keywords,
    in lower-case ASCII words (diacritics removed, đ → d) between single spaces with a space at each end,
    so a portable LIKE '% word%' finds a word's start with or without diacritics. The service
    (engine.services.knowledge_base) keeps them in step with the text on every save.
    """

    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(String(32), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    search_question: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class HotlineTicket(Base):
    """Phiếu of the hotline 1022: one contact from any channel, kept in step with its `hotline_1022` instance.

    `code` is `1022-YYYY-NNNNNN`, numbered per year by engine.documents.registers (register "PHIEU" of
    issuer "1022"); `external_id` is the channel's message id, so a mail or webhook delivered twice
    makes one ticket. engine.services.hotline writes it at intake and after every save of the instance.
    """

    __tablename__ = "hotline_tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    #: dien_thoai, email, web, zalo, facebook, chat, khac.
    channel: Mapped[str] = mapped_column(String(16), index=True)
    caller_name: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    email: Mapped[str] = mapped_column(String(255), default="")
    #: A field code of engine.domain.hotline.FIELDS; empty until classified.
    field: Mapped[str] = mapped_column(String(32), default="", index=True)
    #: Cấp độ: thuong, khan.
    level: Mapped[str] = mapped_column(String(16), default="thuong")
    locality: Mapped[str] = mapped_column(String(64), default="")
    content: Mapped[str] = mapped_column(Text)
    #: moi, dang_xu_ly, chuyen_kenh, chuyen_co_quan, da_tra_loi, dong.
    state: Mapped[str] = mapped_column(String(16), default="moi", index=True)
    #: The code of the agency (unit) the routing table chose.
    agency_code: Mapped[str] = mapped_column(String(64), default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_published: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_call: Mapped[bool] = mapped_column(Boolean, default=False)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: When the ticket first reached da_tra_loi (the answer given to the citizen), for the statistics.
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    #: When the automatic acknowledgement went out (messaging channels: e-mail, web form, chat).
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The call's recording (an attachment of the ticket's instance), for a recorded call.
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))


class HotlineEvent(Base):
    """One entry of a ticket's log besides its process history: a forwarded call, an acknowledgement sent,
    a recording attached (engine.services.hotline_*; docs/hotline.md)."""

    __tablename__ = "hotline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("hotline_tickets.id"), index=True)
    #: chuyen_cuoc_goi (urgent call forwarded to an agency), xac_nhan (automatic acknowledgement),
    #: ghi_am (recording attached).
    kind: Mapped[str] = mapped_column(String(32), index=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    detail: Mapped[Any] = mapped_column(JSON, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class RateLimitHit(Base):
    """How many times one key (e.g. the public form from one address) was used in one window."""

    __tablename__ = "rate_limit_hits"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class WebhookReceipt(Base):
    """A signed webhook call already accepted: the same signature again is a replay and is refused."""

    __tablename__ = "webhook_receipts"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    #: The call's HMAC signature (hex), unique.
    digest: Mapped[str] = mapped_column(String(128), unique=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
