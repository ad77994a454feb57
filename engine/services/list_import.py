"""Excel import into a task's form lists: who may have the blank template, who may upload, the checked rows.

The rules live here so the task page and the API answer alike; engine.forms.excel knows the
spreadsheet, not the people. Nothing is stored: the rows go back into the form, and only
completing the task (instances.complete_task) saves them. The rows pass the same checks as that
completion: the form's own, then its rules (engine.forms.rules: required-when, lookups such as
"this email exists in the mail directory").
"""
from __future__ import annotations

from typing import Any

from engine.domain.enums import TaskStatus
from engine.domain.errors import Conflict, Forbidden
from engine.forms import excel
from engine.persistence.models import User
from engine.persistence.uow import UnitOfWork
from engine.services import instances, queries, submissions
from engine.services.context import Services


def importable_lists(view: queries.TaskView) -> list[excel.ListInfo]:
    """The lists of the task's form the page offers to fill from Excel: none unless the user may do the task."""
    return excel.repeatable_lists(view.form) if view.may_complete else []


def list_template(uow: UnitOfWork, services: Services, user: User, task_id: int, path: str) -> tuple[bytes, str]:
    """The blank .xlsx of the list at `path` and its file name, for anyone who may see the task."""
    schema = instances.form_schema(queries.visible_task(uow, user, task_id))
    content = excel.blank_workbook(schema, path, max_bytes=services.settings.max_excel_bytes)
    return content, excel.file_name(schema, path)


def list_rows(uow: UnitOfWork, services: Services, user: User, task_id: int, path: str,
              content: bytes) -> list[dict[str, Any]]:
    """The rows of an uploaded .xlsx, checked as the form checks them, for the person who may do the task."""
    view = queries.task_view(uow, services, user, task_id)
    if view.task.status != TaskStatus.READY:
        raise Conflict(instances.TASK_DONE)
    if not view.may_complete:
        raise Forbidden(instances.NOT_YOURS)
    settings = services.settings
    return excel.read_rows(view.form, path, content, context=view.data, max_bytes=settings.max_excel_bytes,
                           timezone=settings.timezone, lookups=services.adapters.lookups,
                           submission=submissions.submission(uow, services, user))
