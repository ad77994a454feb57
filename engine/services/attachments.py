"""Files attached in forms (the scanned dossier): upload into a task, check on completion, list, download.

A file is uploaded for one ready task by someone who may do it, checked (size, kind by its bytes,
the field's `accept`) and stored with a random `ref`; the form data then hold {ref, name, size,
type}. Until the task is completed the file is *pending*: only the task's performers see it, and
it may be removed. Completing the task files the ones its data name and deletes the rest; a filed
file is seen by whoever may see the dossier (queries.visible_instance), like issued documents.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import defer

from engine.domain.enums import TaskStatus
from engine.domain.errors import InvalidData, NotFound
from engine.domain.messages import Message
from engine.forms import files
from engine.persistence.models import Attachment, HumanTask, User
from engine.persistence.uow import UnitOfWork
from engine.services import instances, queries
from engine.services.context import Services

#: Files one task may hold, and their total size as a multiple of the single-file limit.
MAX_FILES_PER_TASK = 50
TASK_TOTAL_FACTOR = 5

NO_FILE = Message("Chưa chọn tệp để tải lên.", "No file was chosen.")
EMPTY_FILE = Message("Tệp rỗng (0 byte).", "The file is empty (0 bytes).")
NO_ATTACHMENT = Message("Không tìm thấy tệp đính kèm.", "Attachment not found.")
NOT_REMOVABLE = Message("Chỉ xóa được tệp vừa tải lên cho công việc này, trước khi hoàn thành.",
                        "Only files uploaded for this task can be removed, before it is completed.")


def size_text(n: int) -> str:
    """10 MB, 1.5 MB, 64 KB: limits as people read them."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    return f"{max(n // 1024, 1)} KB"


def too_large(limit: int) -> Message:
    return Message(f"Tệp quá lớn: tối đa {size_text(limit)} mỗi tệp.",
                   f"The file is too large: at most {size_text(limit)}.")


def task_full(count: int, total: int) -> Message:
    return Message(f"Công việc này đã đủ tệp đính kèm (tối đa {count} tệp, tổng {size_text(total)}); "
                   "hãy xóa bớt tệp không cần.",
                   f"This task has as many files as it may hold (at most {count} files, {size_text(total)} "
                   "in all); remove some first.")


def no_field(name: str) -> Message:
    return Message(f"Biểu mẫu của công việc không có trường tệp “{name}”.",
                   f"The task's form has no file field “{name}”.")


def wrong_extension(name: str, kind: files.FileKind) -> Message:
    wanted = ", ".join(kind.extensions)
    return Message(f"Tên tệp “{name}” không khớp nội dung: đây là tệp {kind.label}, phần mở rộng phải là {wanted}.",
                   f"The name “{name}” does not match the content: it is a {kind.label} file, "
                   f"so the extension must be {wanted}.")


def value_of(attachment: Attachment) -> files.FileValue:
    """What a form's data hold for the file."""
    return files.FileValue(ref=attachment.ref, name=attachment.file_name, size=attachment.size,
                           type=attachment.content_type)


# ---------------------------------------------------------------- upload and removal


def checked_file(file_name: str, content: bytes, limit: int,
                 detect: Callable[[bytes], files.FileKind] = files.detect) -> tuple[str, files.FileKind]:
    """The clean name and the kind (by content) of an acceptable upload; InvalidData saying why otherwise.

    Every upload goes through this: form fields, meeting documents, DTI evidence, and (with
    `detect=files.detect_audio`) the hotline's call recordings.
    """
    name = files.clean_name(file_name or "")
    if not name:
        raise InvalidData(NO_FILE)
    if not content:
        raise InvalidData(EMPTY_FILE)
    if len(content) > limit:
        raise InvalidData(too_large(limit))
    try:
        kind = detect(content)
    except files.FileRefused as exc:
        raise InvalidData(exc.message) from None
    if files.extension(name) not in kind.extensions:
        raise InvalidData(wrong_extension(name, kind))
    return name, kind


def upload(uow: UnitOfWork, services: Services, user: User, task_id: int, *, field_id: str, key: str,
           file_name: str, content: bytes) -> files.FileValue:
    """Check and store one file for a file field of the task's form; nothing is stored when refused.

    `content` may be read one byte past the limit, so an oversized file is told apart.
    """
    task = instances.ready_task(uow, user, task_id)
    field = files.file_field(instances.form_schema(task), field_id, key)
    if field is None or field.get("readonly") or field.get("disabled"):
        raise InvalidData(no_field(key or field_id))
    limit = services.settings.max_attachment_bytes
    name, kind = checked_file(file_name, content, limit)
    allowed = files.field_kinds(field)
    if kind not in allowed:
        raise InvalidData(files.wrong_kind(allowed))
    count, total = uow.session.execute(select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size), 0))
                                       .where(Attachment.task_id == task.id)).one()
    if count >= MAX_FILES_PER_TASK or total + len(content) > TASK_TOTAL_FACTOR * limit:
        raise InvalidData(task_full(MAX_FILES_PER_TASK, TASK_TOTAL_FACTOR * limit))
    attachment = Attachment(ref=secrets.token_urlsafe(24), instance_id=task.instance_id, task_id=task.id,
                            uploaded_by=user.id, file_name=name, content_type=kind.mime, size=len(content),
                            sha256=hashlib.sha256(content).hexdigest(), content=content,
                            created_at=services.now())
    uow.add(attachment)
    value = value_of(attachment)
    uow.commit()
    return value


def remove(uow: UnitOfWork, user: User, task_id: int, ref: str) -> None:
    """Delete a pending file of the task (the form's remove button); filed files stay."""
    task = instances.ready_task(uow, user, task_id)
    deleted = uow.session.execute(delete(Attachment).where(Attachment.ref == ref, Attachment.task_id == task.id))
    if not getattr(deleted, "rowcount", 0):
        raise NotFound(NOT_REMOVABLE)
    uow.commit()


# ---------------------------------------------------------------- completing the task


def refs_in(data: Any) -> set[str]:
    """Every `ref` of a file value anywhere in a task's data."""
    found: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def lookup_for(uow: UnitOfWork, task: HumanTask, opened_with: dict[str, Any]) -> files.FileLookup:
    """The files a submission of `task` may name: of its dossier, and either uploaded for this task or
    already in the data it opened with (kept from an earlier step); never another dossier's."""
    carried = refs_in(opened_with)

    def lookup(refs: frozenset[str]) -> dict[str, files.FileValue]:
        rows = uow.session.scalars(select(Attachment).options(defer(Attachment.content)).where(
            Attachment.ref.in_(sorted(refs)), Attachment.instance_id == task.instance_id))
        return {a.ref: value_of(a) for a in rows if a.task_id == task.id or a.ref in carried}

    return lookup


def keep_only(uow: UnitOfWork, task: HumanTask, data: dict[str, Any]) -> None:
    """On completion: the task's uploads its data do not name are dropped (removed or replaced)."""
    uow.session.execute(delete(Attachment).where(Attachment.task_id == task.id,
                                                 Attachment.ref.not_in(sorted(refs_in(data)))))


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class AttachmentSummary:
    """A filed file as lists show it, without its bytes."""

    ref: str
    instance_id: int
    name: str
    size: int
    type: str
    element_id: str
    #: The step it was attached in.
    step: str
    uploaded_by: str
    created_at: datetime


def filed_in(uow: UnitOfWork, instance_id: int) -> list[AttachmentSummary]:
    """The files of an instance's completed steps, oldest first (the caller checked visibility)."""
    rows = uow.session.execute(
        select(Attachment.ref, Attachment.instance_id, Attachment.file_name, Attachment.size,
               Attachment.content_type, HumanTask.element_id, HumanTask.name, User.full_name,
               Attachment.created_at)
        .join(HumanTask, HumanTask.id == Attachment.task_id)
        .outerjoin(User, User.id == Attachment.uploaded_by)
        .where(Attachment.instance_id == instance_id, HumanTask.status == TaskStatus.COMPLETED)
        .order_by(Attachment.created_at, Attachment.id))
    return [AttachmentSummary(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "", r[8]) for r in rows]


def files_of(uow: UnitOfWork, user: User, instance_id: int) -> list[AttachmentSummary]:
    """The filed files of an instance the user may see whole (403/404 as for the instance)."""
    queries.whole_instance(uow, user, instance_id)
    return filed_in(uow, instance_id)


def file_for(uow: UnitOfWork, user: User, ref: str, *, instance_id: int | None = None) -> Attachment:
    """One file with its bytes: filed ones for whoever sees the dossier, pending ones for the task's performers."""
    attachment = uow.session.scalar(select(Attachment).where(Attachment.ref == ref))
    if attachment is None or (instance_id is not None and attachment.instance_id != instance_id):
        raise NotFound(NO_ATTACHMENT)
    instance = queries.visible_instance(uow, user, attachment.instance_id)
    task = uow.session.get(HumanTask, attachment.task_id) if attachment.task_id is not None else None
    if queries.sees_only_own_tasks(uow, user, instance) and (task is None or not queries.own_task(uow, user, task)):
        raise NotFound(NO_ATTACHMENT)  # a file of another unit's task in a shared instance
    if task is not None and task.status != TaskStatus.COMPLETED and not (
            task.status == TaskStatus.READY and instances.can_perform(user, task)):
        raise NotFound(NO_ATTACHMENT)  # someone else's draft: not there for this user
    return attachment

