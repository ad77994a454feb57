"""Conflicts on the meeting calendar: the same room twice at once, or more endpoints than the MCU carries.

Only meetings that still hold their time are compared (not refused or cancelled; a postponed one
at its new time: `MeetingState.holds_time`), and only over their intervals [starts_at, ends_at): a
meeting ending at 11:30 does not overlap one starting at 11:30.

* **Room**: two meetings overlapping in time whose rooms (`dia_diem`) are the same once case,
  diacritics, spacing and punctuation are set aside ("Phòng họp số 1" = "phong hop  so 1").
* **MCU capacity**: at some moment the endpoints of the meetings in session together exceed
  `Settings.mcu_capacity`; each of those meetings is warned with the peak and the others.
"""
from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.domain.messages import Message
from engine.persistence.models import Meeting
from engine.persistence.uow import UnitOfWork
from engine.services.meetings import FREE_STATES, room_key, state_of


class ConflictKind(str, enum.Enum):
    ROOM = "trung_phong"
    CAPACITY = "vuot_mcu"


@dataclass(frozen=True)
class Conflict:
    """A warning on one meeting: what clashes, with which meetings, in both languages."""

    kind: ConflictKind
    #: The other meetings of the clash, by start.
    others: tuple[Meeting, ...]
    message: Message
    #: Capacity clashes: the most endpoints at once, and the MCU's limit.
    endpoints: int = 0
    capacity: int = 0


def holds_time(meeting: Meeting) -> bool:
    return (meeting.starts_at is not None and meeting.ends_at is not None
            and state_of(meeting.state).holds_time)


def _overlap(a: Meeting, b: Meeting) -> bool:
    assert a.starts_at and a.ends_at and b.starts_at and b.ends_at  # holds_time checked it
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def occupying(uow: UnitOfWork, start: datetime, end: datetime) -> list[Meeting]:
    """Meetings holding some time within [start, end)."""
    query = (select(Meeting).where(Meeting.starts_at < end, Meeting.ends_at > start,
                                   Meeting.state.not_in(FREE_STATES))
             .order_by(Meeting.starts_at, Meeting.id))
    return [m for m in uow.session.scalars(query) if holds_time(m)]


def find(uow: UnitOfWork, meetings: Iterable[Meeting], capacity: int, zone: ZoneInfo) -> dict[int, list[Conflict]]:
    """The conflicts of each given meeting (by id; meetings without any are left out).

    Every meeting overlapping a given one is read, wherever it starts, so a meeting at the edge
    of a week is still compared with the one across the edge.
    """
    listed = [m for m in meetings if holds_time(m)]
    if not listed:
        return {}
    start = min(m.starts_at for m in listed if m.starts_at)
    end = max(m.ends_at for m in listed if m.ends_at)
    return among(listed, occupying(uow, start, end), capacity, zone)


def among(listed: list[Meeting], pool: list[Meeting], capacity: int, zone: ZoneInfo) -> dict[int, list[Conflict]]:
    """The conflicts of `listed` against every meeting of `pool` (which holds every overlapping one)."""
    found: dict[int, list[Conflict]] = {}
    overloads = _overloads(pool, capacity)
    for meeting in listed:
        if not holds_time(meeting):
            continue
        conflicts = []
        same_room = [other for other in pool if other.id != meeting.id and holds_time(other)
                     and room_key(meeting.room) and room_key(other.room) == room_key(meeting.room)
                     and _overlap(meeting, other)]
        if same_room:
            conflicts.append(Conflict(ConflictKind.ROOM, tuple(same_room), _room_message(meeting, same_room, zone)))
        if meeting.id in overloads:
            peak, others = overloads[meeting.id]
            conflicts.append(Conflict(ConflictKind.CAPACITY, others, _capacity_message(peak, capacity, others, zone),
                                      endpoints=peak, capacity=capacity))
        if conflicts:
            found[meeting.id] = conflicts
    return found


def _overloads(pool: list[Meeting], capacity: int) -> dict[int, tuple[int, tuple[Meeting, ...]]]:
    """Meeting id → (the most endpoints at once while it is over capacity, the others in session then).

    The day is cut at every start and end; within each piece the same meetings are in session.
    """
    timed = [m for m in pool if holds_time(m)]
    moments = sorted({t for m in timed for t in (m.starts_at, m.ends_at) if t is not None})
    peaks: dict[int, int] = {}
    partners: dict[int, dict[int, Meeting]] = {}
    for begin, finish in itertools.pairwise(moments):
        during = [m for m in timed if m.starts_at and m.ends_at and m.starts_at < finish and begin < m.ends_at]
        load = sum(m.endpoints for m in during)
        if load <= capacity:
            continue
        for meeting in during:
            peaks[meeting.id] = max(peaks.get(meeting.id, 0), load)
            partners.setdefault(meeting.id, {}).update({m.id: m for m in during if m.id != meeting.id})
    return {mid: (peak, tuple(sorted(partners[mid].values(), key=lambda m: (m.starts_at, m.id))))
            for mid, peak in peaks.items()}


def _when(meeting: Meeting, zone: ZoneInfo) -> str:
    assert meeting.starts_at and meeting.ends_at  # only meetings holding time get here
    start, end = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    return f"{start:%H:%M}–{end:%H:%M} {start:%d/%m/%Y}"


def _named(meetings: Iterable[Meeting], zone: ZoneInfo) -> str:
    return ", ".join(f"“{m.title or f'#{m.instance_id}'}” ({_when(m, zone)})" for m in meetings)


def _room_message(meeting: Meeting, others: list[Meeting], zone: ZoneInfo) -> Message:
    names = _named(others, zone)
    return Message(f"Trùng phòng họp “{meeting.room}” với {names}.",
                   f"Room “{meeting.room}” is also booked for {names}.")


def _capacity_message(peak: int, capacity: int, others: tuple[Meeting, ...], zone: ZoneInfo) -> Message:
    vi = f"Vượt dung lượng MCU: {peak} điểm cầu cùng lúc (tối đa {capacity})"
    en = f"Over the MCU's capacity: {peak} endpoints at once (at most {capacity})"
    if others:
        names = _named(others, zone)
        return Message(f"{vi}, cùng với {names}.", f"{en}, with {names}.")
    return Message(f"{vi}.", f"{en}.")

