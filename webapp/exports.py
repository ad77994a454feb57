"""Excel downloads of the task and instance lists, exactly as the pages show them to this user."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.enums import DueState
from engine.persistence.models import HumanTask, ProcessInstance
from engine.reports.excel import Column, Kind, table_workbook
from engine.services import queries, sla
from webapp.downloads import attachment
from webapp.formatting import datetime_local, due_label, outcome_label, status_label
from webapp.platform import services, uow

bp = Blueprint("exports", __name__)


def _stamp() -> str:
    """Who exported the list and when: the line under the title."""
    return _("Người xuất: %(name)s (%(unit)s) — lúc %(time)s", name=current_user.full_name,
             unit=current_user.unit.name, time=datetime_local(services().now()))


def _today() -> str:
    return services().now().astimezone(ZoneInfo(services().settings.timezone)).date().isoformat()


def instance_due_label(instance: ProcessInstance, state: DueState | None) -> str:
    """The badges of the list's deadline cell, in words: due state, outcome, paused clock."""
    if instance.due_at is None:
        return ""
    parts: Iterable[str] = (due_label(state), outcome_label(instance.sla_outcome),
                            _("Tạm dừng tính hạn") if instance.paused_at else "")
    return ", ".join(p for p in parts if p)


@bp.get("/tasks/export.xlsx")
@login_required
def tasks() -> Any:
    """The tasklist of `/` with the same `sort`, same columns, same rows."""
    sort = request.args.get("sort", "due")
    columns = [Column(_("Công việc"), 34), Column(_("Số hồ sơ"), 44), Column(_("Đơn vị đề nghị"), 30),
               Column(_("Nhận lúc"), 17, Kind.DATETIME), Column(_("Hạn xử lý"), 17, Kind.DATETIME),
               Column(_("Tình trạng hạn"), 16)]
    with uow() as work:
        shown: list[HumanTask] = queries.tasks_for(work, current_user, sort=sort)
        due = sla.task_states(services(), shown)
        rows = [[t.name, f"#{t.instance_id} · {t.instance.title}", t.instance.initiator_unit.name,
                 t.created_at, t.due_at, due_label(due.get(t.id))] for t in shown]
        data = table_workbook(_("Việc cần làm"), columns, rows, subtitle=_stamp(),
                              timezone=services().settings.timezone)
    day = _today()
    return attachment(data, _("Việc cần làm %(day)s.xlsx", day=day), ascii_name=f"viec-can-lam-{day}.xlsx")


@bp.get("/instances/export.xlsx")
@login_required
def instances() -> Any:
    """The instance list of `/instances`, same columns and rows."""
    columns = [Column(_("Số"), 8, Kind.INTEGER, number_format='"#"0'), Column(_("Quy trình"), 40),
               Column(_("Đơn vị đề nghị"), 30), Column(_("Người tạo"), 24), Column(_("Ngày tạo"), 17, Kind.DATETIME),
               Column(_("Hạn xử lý"), 17, Kind.DATETIME), Column(_("Tình trạng hạn"), 22),
               Column(_("Trạng thái"), 14)]
    with uow() as work:
        shown: list[ProcessInstance] = queries.instances_for(work, current_user)
        due = sla.instance_states(services(), shown)
        rows = [[i.id, i.title, i.initiator_unit.name, i.initiator.full_name, i.created_at, i.due_at,
                 instance_due_label(i, due.get(i.id)), status_label(i.status)] for i in shown]
        data = table_workbook(_("Hồ sơ"), columns, rows, subtitle=_stamp(), timezone=services().settings.timezone)
    day = _today()
    return attachment(data, _("Hồ sơ %(day)s.xlsx", day=day), ascii_name=f"ho-so-{day}.xlsx")
