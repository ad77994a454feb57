"""The meeting register: every meeting procedure's instance mirrored in one `meetings` row.

A procedure is a meeting procedure when its bpmn:process carries the camunda:property
`meeting` = `true`. After every save of such an instance (`instances.save_state`, and
`instances.cancel`) `sync` reads the shared contract's variables and upserts the instance's row in
the same transaction, so the calendar (engine.services.meeting_calendar), its conflict checks
(engine.services.meeting_conflicts), invitations and reports read meetings without restoring
workflows. docs/meetings.md states the rules; the ones that are platform choices:

* **Start**: `hop_luc` (aware ISO text), else `meeting_time(ngay_hop, gio_bat_dau)`.
* **End**: `ket_thuc_luc`, else `gio_ket_thuc` on the meeting day, else the end of the session
  (buổi): 11:30 for a start before 12:00, else 17:00 (also for `buoi` "chieu" or "ca_ngay"); an end
  not after the start is ignored (a start at 11:45 ends at 17:00, one at or after 17:00 lasts two
  hours). The rule is `engine.bpmn.functions.meeting_end`, the one the diagrams' scripts call.
* **State**: `trang_thai_hop` as the procedure's scripts set it. A cancelled instance is `huy`
  (unless the data says the meeting was already held: `da_hop` stays). A finished instance
  without a state keeps the state last recorded: the register never infers that a meeting was
  held (`da_hop`) when the data does not say so.
"""
from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.bpmn.functions import SESSIONS, end_after
from engine.calendar import MAX_YEAR, MIN_YEAR
from engine.domain.enums import InstanceStatus
from engine.domain.errors import InvalidData, NotFound
from engine.domain.messages import Message
from engine.domain.text import ascii_words
from engine.persistence.models import Meeting, ProcedureVersion, ProcessInstance
from engine.persistence.uow import UnitOfWork
from engine.services.context import Services

log = logging.getLogger(__name__)

#: The process-level camunda:property marking a meeting procedure.
MEETING_PROPERTY = "meeting"
NO_MEETING = Message("Không tìm thấy cuộc họp.", "Meeting not found.")


class MeetingState(str, enum.Enum):
    """trang_thai_hop: where a meeting stands (the contract's values)."""

    REGISTERED = "dang_ky"
    REFUSED = "tu_choi"
    CONFIRMED = "da_xac_nhan"
    IN_SESSION = "dang_hop"
    HELD = "da_hop"
    POSTPONED = "hoan"
    CANCELLED = "huy"

    @property
    def label(self) -> Message:
        return _STATE_LABELS[self]

    @property
    def holds_time(self) -> bool:
        """Whether the meeting still needs its room and MCU at its time (conflicts are checked).

        A refused or cancelled meeting does not. A postponed one does, at its new time: postponing
        (engine/services/meeting_rules.py) records the new date and time at once.
        """
        return self not in (MeetingState.REFUSED, MeetingState.CANCELLED)


_STATE_LABELS = {
    MeetingState.REGISTERED: Message("Đã đăng ký", "Registered"),
    MeetingState.REFUSED: Message("Từ chối", "Refused"),
    MeetingState.CONFIRMED: Message("Đã xác nhận", "Confirmed"),
    MeetingState.IN_SESSION: Message("Đang họp", "In session"),
    MeetingState.HELD: Message("Đã họp", "Held"),
    MeetingState.POSTPONED: Message("Hoãn", "Postponed"),
    MeetingState.CANCELLED: Message("Hủy", "Cancelled"),
}
#: States whose meetings hold no slot on the calendar.
FREE_STATES = tuple(s.value for s in MeetingState if not s.holds_time)


class MeetingLevel(str, enum.Enum):
    """cap_hop: the levels Phụ lục I offers."""

    NOI_TINH = "noi_tinh"
    CHUYEN_TIEP = "chuyen_tiep"
    TINH_HUYEN = "tinh_huyen"
    HUYEN_XA = "huyen_xa"
    TINH_HUYEN_XA = "tinh_huyen_xa"
    TW_TINH = "tw_tinh"
    TW_TINH_HUYEN = "tw_tinh_huyen"
    TW_TINH_HUYEN_XA = "tw_tinh_huyen_xa"

    @property
    def label(self) -> Message:
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {
    MeetingLevel.NOI_TINH: Message("Nội tỉnh", "Within the province"),
    MeetingLevel.CHUYEN_TIEP: Message("Chuyển tiếp", "Relayed"),
    MeetingLevel.TINH_HUYEN: Message("Tỉnh - Huyện", "Province - District"),
    MeetingLevel.HUYEN_XA: Message("Huyện - Xã", "District - Commune"),
    MeetingLevel.TINH_HUYEN_XA: Message("Tỉnh - Huyện - Xã", "Province - District - Commune"),
    MeetingLevel.TW_TINH: Message("TW - Tỉnh", "Central - Province"),
    MeetingLevel.TW_TINH_HUYEN: Message("TW - Tỉnh - Huyện", "Central - Province - District"),
    MeetingLevel.TW_TINH_HUYEN_XA: Message("TW - Tỉnh - Huyện - Xã", "Central - Province - District - Commune"),
}


def _key(text: Any) -> str:
    return "_".join(ascii_words(str(text)))


#: Every spelling of a level (code, Phụ lục I label, Phụ lục V's "Trung Ương") → the level.
_LEVEL_KEYS = {
    **{_key(level.value): level for level in MeetingLevel},
    **{_key(level.label.vi): level for level in MeetingLevel},
    **{_key(level.label.vi.replace("TW", "Trung Ương")): level for level in MeetingLevel},
}


def level_of(value: Any) -> MeetingLevel | None:
    """The level a stored value names, however it is spelt; None for any other value."""
    return _LEVEL_KEYS.get(_key(value)) if value is not None else None


def level_label(value: str) -> Message:
    """The label of a stored level; an unknown one shows as it was written."""
    level = level_of(value)
    return level.label if level else Message(value or "—", value or "—")


def state_of(value: str) -> MeetingState:
    try:
        return MeetingState(value)
    except ValueError:
        return MeetingState.REGISTERED


def room_key(room: str) -> str:
    """How rooms are compared: without case, diacritics, spacing or punctuation."""
    return "".join(ascii_words(room))


# ---------------------------------------------------------------- reading the variables


def is_meeting_procedure(version: ProcedureVersion) -> bool:
    return str((version.properties or {}).get(MEETING_PROPERTY, "")).strip().lower() == "true"


@dataclass(frozen=True)
class MeetingFacts:
    """The register's fields as the instance's variables give them (state: None when not recorded)."""

    title: str
    level: str
    starts_at: datetime | None
    ends_at: datetime | None
    room: str
    host_unit: str
    endpoints: int
    urgent: bool
    state: MeetingState | None

    @property
    def registered(self) -> bool:
        """Whether the meeting has been described at all (before Phụ lục I is filled there is no row)."""
        return bool(self.title or self.level or self.starts_at or self.room)


def read_facts(variables: Mapping[str, Any], zone: ZoneInfo) -> MeetingFacts:
    """The meeting described by the contract's variables (docs/meetings.md)."""
    starts_at = _moment(variables.get("hop_luc"), zone) or _day_and_time(
        variables.get("ngay_hop"), variables.get("gio_bat_dau"), zone)
    satellites = variables.get("diem_cau")
    recorded = variables.get("trang_thai_hop")
    level = variables.get("cap_hop")
    known_level = level_of(level)
    return MeetingFacts(
        title=_text(variables.get("noi_dung"), 500),
        level=known_level.value if known_level else _text(level, 32),
        starts_at=starts_at,
        ends_at=_end(variables, starts_at, zone),
        room=_text(variables.get("dia_diem"), 255),
        host_unit=_text(variables.get("don_vi_chu_tri"), 255),
        endpoints=1 + (len(satellites) if isinstance(satellites, list) else 0),
        urgent=variables.get("dot_xuat") is True or str(variables.get("dot_xuat")).strip().lower() in ("true", "1"),
        state=MeetingState(recorded) if recorded in {s.value for s in MeetingState} else None,
    )


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value).split())[:limit] if value is not None else ""


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    """An aware moment from a datetime or ISO text; a naive one is read in Vietnam time."""
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?")


def _day_and_time(day: Any, clock: Any, zone: ZoneInfo) -> datetime | None:
    """meeting_time(ngay_hop, gio_bat_dau): the form's day and "HH:MM" (a zone suffix is honoured)."""
    if isinstance(day, datetime):
        day = day.date()
    if isinstance(day, date):
        day = day.isoformat()
    if not (isinstance(day, str) and isinstance(clock, str) and _CLOCK.fullmatch(clock.strip())):
        return None
    return _moment(f"{day.strip()[:10]}T{clock.strip()}", zone)


def _end(variables: Mapping[str, Any], start: datetime | None, zone: ZoneInfo) -> datetime | None:
    """`ket_thuc_luc` when after the start, else `meeting_end`'s rule (engine.bpmn.functions.end_after)."""
    if start is None:
        return None
    recorded = _moment(variables.get("ket_thuc_luc"), zone)
    if recorded is not None and recorded > start:
        return recorded
    local = start.astimezone(zone)
    buoi = variables.get("buoi")
    return end_after(local, _day_and_time(local.date(), variables.get("gio_ket_thuc"), zone),
                     buoi if buoi in SESSIONS else None)


def resolve_state(recorded: MeetingState | None, status: InstanceStatus, previous: str | None) -> MeetingState:
    """The row's state: see the module docstring."""
    last = recorded or (state_of(previous) if previous else None)
    if status == InstanceStatus.CANCELLED and last is not MeetingState.HELD:
        return MeetingState.CANCELLED
    return last or MeetingState.REGISTERED


# ---------------------------------------------------------------- the hook


def sync(uow: UnitOfWork, services: Services, instance: ProcessInstance, workflow: Any) -> Meeting | None:
    """Upsert the instance's row when its procedure is a meeting procedure (in the caller's transaction)."""
    if not is_meeting_procedure(instance.version):
        return None
    row = uow.session.scalar(select(Meeting).where(Meeting.instance_id == instance.id))
    if instance.status == InstanceStatus.CANCELLED:
        # Cancelling changes no variable (and a cancelled workflow no longer shows them): only the state.
        if row is not None:
            state = resolve_state(None, instance.status, row.state).value
            if row.state != state:
                row.state, row.updated_at = state, services.now()
        return row
    facts = read_facts(services.runtime.variables(workflow), ZoneInfo(services.settings.timezone))
    if row is None:
        if not facts.registered:
            return None
        row = Meeting(instance_id=instance.id, process_id=instance.version.process_id)
        uow.add(row)
    state = resolve_state(facts.state, instance.status, row.state)
    values = {"title": facts.title, "level": facts.level, "starts_at": facts.starts_at, "ends_at": facts.ends_at,
              "room": facts.room, "host_unit": facts.host_unit, "endpoints": facts.endpoints,
              "urgent": facts.urgent, "state": state.value}
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    # Only what changed is written, so saving an instance that moved on leaves updated_at alone.
    for name, value in changed.items():
        setattr(row, name, value)
    if changed:
        row.updated_at = services.now()
    return row


# ---------------------------------------------------------------- queries


def get(uow: UnitOfWork, meeting_id: int) -> Meeting:
    row = uow.session.get(Meeting, meeting_id)
    if row is None:
        raise NotFound(NO_MEETING)
    return row


def of_instance(uow: UnitOfWork, instance_id: int) -> Meeting | None:
    return uow.session.scalar(select(Meeting).where(Meeting.instance_id == instance_id))


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def between(uow: UnitOfWork, first: date, last: date, zone: ZoneInfo) -> list[Meeting]:
    """Meetings starting on the days first…last (inclusive, local days), by start."""
    query = (select(Meeting).where(Meeting.starts_at >= day_start(first, zone),
                                   Meeting.starts_at < day_start(last + timedelta(days=1), zone))
             .order_by(Meeting.starts_at, Meeting.id))
    return list(uow.session.scalars(query))


#: The longest range the calendar API answers for, in days (both ends counted).
MAX_RANGE_DAYS = 62
FROM_LABEL, TO_LABEL = Message("Từ ngày", "From date"), Message("Đến ngày", "To date")
DAY_LABEL = Message("Ngày", "Date")


def parse_day(text: str | None, label: Message = DAY_LABEL) -> date:
    """A day given as YYYY-MM-DD (the calendar's and the API's), or a Vietnamese error."""
    value = (text or "").strip()
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidData(Message(
            f"{label.vi} “{value[:40]}” không phải ngày hợp lệ; hãy viết theo dạng năm-tháng-ngày, "
            f"ví dụ 2026-12-03 (năm {MIN_YEAR}–{MAX_YEAR}).",
            f"{label.en} “{value[:40]}” is not a valid date; write year-month-day, e.g. 2026-12-03 "
            f"(years {MIN_YEAR}–{MAX_YEAR})."))
    return day


def parse_range(first: str | None, last: str | None) -> tuple[date, date]:
    """from…to of the API: two days, in order, at most MAX_RANGE_DAYS days (both counted)."""
    start, end = parse_day(first, FROM_LABEL), parse_day(last, TO_LABEL)
    if start > end:
        raise InvalidData(Message("“Từ ngày” phải trước hoặc bằng “Đến ngày”.", "“from” must be on or before “to”."))
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidData(Message(f"Mỗi lần chỉ xem được tối đa {MAX_RANGE_DAYS} ngày.",
                                  f"At most {MAX_RANGE_DAYS} days can be asked for at once."))
    return start, end
