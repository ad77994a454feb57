"""Running the email_account procedure: who may do what, deadlines, races, and secrets kept out."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from engine import worker
from engine.adapters import mail_directory
from engine.domain.enums import InstanceStatus, TaskStatus
from engine.domain.errors import Conflict, Forbidden, InvalidData
from engine.persistence.models import (
    AdapterOperation,
    AuditEvent,
    CredentialLink,
    Document,
    HumanTask,
    MailAccount,
    Notification,
    ProcessInstance,
    ServiceCall,
    User,
)
from engine.persistence.uow import UnitOfWork
from engine.services import identity, instances
from engine.services.context import Services
from tests.engine.docx_files import docx_text

Uow = Callable[[], UnitOfWork]

REQUEST = {
    "kenh_gui": "idesk",
    "so_cong_van": "85/STC-VP",
    "noi_dung": "Đề nghị cấp thư điện tử công vụ cho công chức mới tuyển dụng.",
    "ca_nhan": [
        {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "chuc_vu": "Chuyên viên",
         "thao_tac": "cap_moi"},
        {"ho_ten": "Phạm Thị Hoa", "don_vi": "Văn phòng Sở", "thao_tac": "cap_moi"},
    ],
    "nguoi_ky": "Giám đốc Sở Tài chính",
}
CHECKED = {"y_kien_xu_ly": "Đồng ý cấp.", "xac_nhan": True}
REPLY = {"kinh_gui": "", "noi_dung_phuc_dap": "Sở Thông tin và Truyền thông phúc đáp kết quả.",
         "quyen_han_ky": "KT. GIÁM ĐỐC", "chuc_vu_ky": "PHÓ GIÁM ĐỐC", "nguoi_ky": "Nguyễn Văn Bảy",
         "noi_nhan": "Như trên;"}


# ---------------------------------------------------------------- helpers


def start(uow: Uow, services: Services, actor: User) -> int:
    with uow() as u:
        return instances.start(u, services, actor, "email_account").id


def ready_tasks(uow: Uow, instance_id: int) -> list[HumanTask]:
    with uow() as u:
        tasks = u.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)
            .order_by(HumanTask.id)).all()
        u.session.expunge_all()
        return list(tasks)


def the_ready_task(uow: Uow, instance_id: int, element_id: str) -> HumanTask:
    tasks = ready_tasks(uow, instance_id)
    assert [t.element_id for t in tasks] == [element_id]
    return tasks[0]


def complete(uow: Uow, services: Services, actor: User, task_id: int, data: dict[str, Any],
             **kwargs: Any) -> None:
    with uow() as u:
        instances.complete_task(u, services, actor, task_id, data, **kwargs)


T = TypeVar("T")


def detached(uow: Uow, model: type[T], row_id: int) -> T:
    """A row read in its own session and detached, to check what was stored."""
    with uow() as u:
        row = u.session.get(model, row_id)
        assert row is not None
        u.session.expunge_all()
        return row


def instance_row(uow: Uow, instance_id: int) -> ProcessInstance:
    return detached(uow, ProcessInstance, instance_id)


def task_row(uow: Uow, task_id: int) -> HumanTask:
    return detached(uow, HumanTask, task_id)


def count(uow: Uow, model: type) -> int:
    with uow() as u:
        return u.session.scalar(select(func.count()).select_from(model)) or 0


def refused(uow: Uow, services: Services, actor: User, task_id: int, data: dict[str, Any]) -> dict[str, str]:
    """Completing is refused: the errors by data path, and nothing changed."""
    before = instance_row(uow, task_row(uow, task_id).instance_id)
    events = count(uow, AuditEvent)
    with pytest.raises(InvalidData) as caught:
        complete(uow, services, actor, task_id, data)
    after = instance_row(uow, before.id)
    assert (after.revision, after.state_json) == (before.revision, before.state_json)
    assert task_row(uow, task_id).status == TaskStatus.READY and count(uow, AuditEvent) == events
    return {error.path: error.message.vi for error in caught.value.details}


def assert_save_restore_round_trips(uow: Uow, services: Services, instance_id: int) -> None:
    """SpiffWorkflow's save_restore idea: restoring the stored state and dumping it changes nothing."""
    row = instance_row(uow, instance_id)
    workflow = services.runtime.restore(row.version.spec_json, row.state_json)
    assert json.loads(services.runtime.dump(workflow)) == json.loads(row.state_json)


def run_to_reply(uow: Uow, services: Services, people: dict[str, User], request: dict[str, Any]) -> int:
    """Start, request, check and let the worker act; returns the instance waiting for the reply."""
    instance_id = start(uow, services, people["cv_stc"])
    complete(uow, services, people["cv_stc"], the_ready_task(uow, instance_id, "Task_LapDeNghi").id, request)
    complete(uow, services, people["cv_sttt"], the_ready_task(uow, instance_id, "Task_XuLyDangKy").id, CHECKED)
    worker.run_once(uow, services, owner="worker-test")
    return instance_id


def vn(year: int, month: int, day: int, hour: int) -> datetime:
    """A wall-clock time in Đồng Tháp (UTC+7, no daylight saving) as aware UTC."""
    return datetime(year, month, day, hour - 7, tzinfo=UTC)


# ---------------------------------------------------------------- the happy path


def test_email_account_happy_path(uow, services, people, published, clock) -> None:  # type: ignore[no-untyped-def]
    requester, expert = people["cv_stc"], people["cv_sttt"]
    instance_id = start(uow, services, requester)

    request = the_ready_task(uow, instance_id, "Task_LapDeNghi")
    assert [(c.unit_id, c.role) for c in request.candidates] == [(requester.unit_id, "chuyen_vien")]
    assert_save_restore_round_trips(uow, services, instance_id)

    clock.now = vn(2026, 11, 27, 10)  # Friday morning
    complete(uow, services, requester, request.id, REQUEST)
    assert task_row(uow, request.id).status == TaskStatus.COMPLETED
    check = the_ready_task(uow, instance_id, "Task_XuLyDangKy")
    assert check.due_at == vn(2026, 12, 2, 17)  # three working days: Mon, Tue, Wed, to 17:00
    assert [(c.unit_id, c.role) for c in check.candidates] == [(expert.unit_id, "chuyen_vien")]
    assert_save_restore_round_trips(uow, services, instance_id)

    for outsider in (people["cv_syt"], requester):
        with pytest.raises(Forbidden):
            complete(uow, services, outsider, check.id, CHECKED)
    assert task_row(uow, check.id).status == TaskStatus.READY

    complete(uow, services, expert, check.id, CHECKED)
    assert ready_tasks(uow, instance_id) == []  # the worker's turn
    assert instance_row(uow, instance_id).wake_at == clock.now
    assert_save_restore_round_trips(uow, services, instance_id)
    assert worker.run_once(uow, services, owner="worker-test") == 2

    reply = the_ready_task(uow, instance_id, "Task_PhucDap")
    assert reply.due_at == vn(2026, 11, 30, 17)  # Friday + one working day = Monday, 17:00
    with uow() as u:
        rows = instances.task_data(u, services, instances.get_task(u, reply.id))["rows"]
    # the requester has no e-mail address: the password links wait in their inbox on the platform
    sent = "Đã cấp mới — mật khẩu gửi qua liên kết dùng một lần tới mục Thông báo của Trần Thị Bình trên hệ thống"
    assert [(r["ho_ten"], r["ket_qua"], r["dia_chi"]) for r in rows] == [
        ("Nguyễn Văn An", sent, "annv@dongthap.gov.vn"),
        ("Phạm Thị Hoa", sent, "hoapt@dongthap.gov.vn"),
    ]
    assert_save_restore_round_trips(uow, services, instance_id)

    clock.advance(hours=2)
    complete(uow, services, expert, reply.id, REPLY)
    assert instance_row(uow, instance_id).status == InstanceStatus.RUNNING  # the letter is issued next
    assert worker.run_once(uow, services, owner="worker-test") == 1
    done = instance_row(uow, instance_id)
    assert (done.status, done.ended_at, done.wake_at) == (InstanceStatus.COMPLETED, clock.now, None)
    assert ready_tasks(uow, instance_id) == []
    with uow() as u:
        actions = u.session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                    .order_by(AuditEvent.id)).all()
        letter = u.session.scalars(select(Document).where(Document.instance_id == instance_id)).one()
        reference, doc_type, content = letter.reference, letter.doc_type, letter.docx
    assert actions == ["start", "complete", "complete", "service_call", "service_call", "complete",
                       "service_call"]
    assert (reference, doc_type) == ("01/STTTT-TTCĐS", "CV")
    text = docx_text(content)
    assert "Số: 01/STTTT-TTCĐS" in text and "V/v phúc đáp đề nghị cấp mới" in text
    for name, address in (("Nguyễn Văn An", "annv@dongthap.gov.vn"), ("Phạm Thị Hoa", "hoapt@dongthap.gov.vn")):
        assert name in text and address in text
    assert "KT. GIÁM ĐỐC" in text and "Nguyễn Văn Bảy" in text and "Lưu: VT" in text


def test_invalid_submission_names_fields_and_stores_nothing(uow, services, people, published) -> None:  # type: ignore[no-untyped-def]
    requester = people["cv_stc"]
    instance_id = start(uow, services, requester)
    task = the_ready_task(uow, instance_id, "Task_LapDeNghi")
    before = instance_row(uow, instance_id)
    events = count(uow, AuditEvent)

    bad = {**REQUEST, "noi_dung": "", "kenh_gui": "fax",
           "ca_nhan": [{"ho_ten": "", "don_vi": "Phòng Kế hoạch", "thao_tac": "cap_moi",
                        "dia_chi_hien_tai": "khong-phai-dia-chi"}]}
    with pytest.raises(InvalidData) as caught:
        complete(uow, services, requester, task.id, bad)
    paths = {error.path for error in caught.value.details}
    assert {"noi_dung", "kenh_gui", "ca_nhan.0.ho_ten", "ca_nhan.0.dia_chi_hien_tai"} <= paths

    after = instance_row(uow, instance_id)
    assert (after.revision, after.state_json) == (before.revision, before.state_json)
    assert task_row(uow, task.id).status == TaskStatus.READY
    assert count(uow, AuditEvent) == events


# ---------------------------------------------------------------- races


def test_completing_a_task_twice_is_a_conflict(uow, services, people, published) -> None:  # type: ignore[no-untyped-def]
    requester = people["cv_stc"]
    instance_id = start(uow, services, requester)
    task = the_ready_task(uow, instance_id, "Task_LapDeNghi")
    complete(uow, services, requester, task.id, REQUEST)
    revision = instance_row(uow, instance_id).revision
    with pytest.raises(Conflict):
        complete(uow, services, requester, task.id, REQUEST)
    assert instance_row(uow, instance_id).revision == revision


def test_two_sessions_completing_the_same_task_one_wins(uow, services, people, published) -> None:  # type: ignore[no-untyped-def]
    requester = people["cv_stc"]
    instance_id = start(uow, services, requester)
    task_id = the_ready_task(uow, instance_id, "Task_LapDeNghi").id
    revision = instance_row(uow, instance_id).revision

    with uow() as first, pytest.raises(Conflict), uow() as second:
        # Both open the task while it is still ready, as two browser tabs would.
        for u in (first, second):
            seen = instances.get_task(u, task_id)
            assert (seen.status, seen.instance.revision) == (TaskStatus.READY, revision)
        instances.complete_task(first, services, requester, task_id, REQUEST)
        instances.complete_task(second, services, requester, task_id,
                                {**REQUEST, "noi_dung": "Nội dung của tab thứ hai."})

    assert instance_row(uow, instance_id).revision == revision + 1
    assert [t.element_id for t in ready_tasks(uow, instance_id)] == ["Task_XuLyDangKy"]
    with uow() as u:
        completions = u.session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "complete")).all()
        assert [e.after["noi_dung"] for e in completions] == [REQUEST["noi_dung"]]
        assert u.session.scalar(select(func.count()).select_from(HumanTask)) == 2


def test_stale_expected_revision_is_a_conflict(uow, services, people, published) -> None:  # type: ignore[no-untyped-def]
    requester = people["cv_stc"]
    instance_id = start(uow, services, requester)
    task_id = the_ready_task(uow, instance_id, "Task_LapDeNghi").id
    revision = instance_row(uow, instance_id).revision
    with pytest.raises(Conflict):
        complete(uow, services, requester, task_id, REQUEST, expected_revision=revision - 1)
    assert task_row(uow, task_id).status == TaskStatus.READY
    complete(uow, services, requester, task_id, REQUEST, expected_revision=revision)
    assert task_row(uow, task_id).status == TaskStatus.COMPLETED


# ---------------------------------------------------------------- mail accounts and secrets


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password the mail directory generates, recognisable in any text."""
    issued: list[str] = []

    def new_password() -> str:
        issued.append(f"BiMatMatKhau{len(issued):04d}xyz")
        return issued[-1]

    monkeypatch.setattr(mail_directory, "new_password", new_password)
    yield issued


def all_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item)


def test_passwords_never_reach_audit_or_instance_state(uow, services, people, published, passwords) -> None:  # type: ignore[no-untyped-def]
    new = {**REQUEST, "ca_nhan": [
        {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "thao_tac": "cap_moi"},
        {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Ngân sách", "thao_tac": "cap_moi"},
    ]}
    first = run_to_reply(uow, services, people, new)
    with uow() as u:
        rows = instances.task_data(u, services, instances.get_task(
            u, the_ready_task(uow, first, "Task_PhucDap").id))["rows"]
    assert [r["dia_chi"] for r in rows] == ["annv@dongthap.gov.vn", "annv1@dongthap.gov.vn"]

    reset = {**REQUEST, "ca_nhan": [
        {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "thao_tac": "cap_lai_mat_khau",
         "dia_chi_hien_tai": "annv@dongthap.gov.vn"},
    ]}
    second = run_to_reply(uow, services, people, reset)
    for instance_id in (first, second):
        complete(uow, services, people["cv_sttt"],
                 the_ready_task(uow, instance_id, "Task_PhucDap").id, REPLY)

    assert len(passwords) == 3  # two new mailboxes, one reset
    with uow() as u:
        accounts = {a.address: a for a in u.session.scalars(select(MailAccount))}
        assert set(accounts) == {"annv@dongthap.gov.vn", "annv1@dongthap.gov.vn"}
        assert identity.verify_password(accounts["annv@dongthap.gov.vn"].password_hash, passwords[2])
        assert identity.verify_password(accounts["annv1@dongthap.gov.vn"].password_hash, passwords[1])

        stored = [json.dumps([e.summary, e.before, e.after], ensure_ascii=False)
                  for e in u.session.scalars(select(AuditEvent))]
        stored += [i.state_json for i in u.session.scalars(select(ProcessInstance))]
        stored += [json.dumps(op.result, ensure_ascii=False) for op in u.session.scalars(select(AdapterOperation))]
        stored += [c.last_error or "" for c in u.session.scalars(select(ServiceCall))]
        stored += [a.password_hash or "" for a in accounts.values()]
        stored += [f"{n.subject} {n.body}" for n in u.session.scalars(select(Notification))]
        sealed = [link.sealed or b"" for link in u.session.scalars(select(CredentialLink))]
    assert len(sealed) == 3 and not [s for s in sealed if any(p.encode() in s for p in passwords)]
    for text in stored:
        assert not any(p in text for p in passwords)
    keys = {k for text in stored if text.startswith(("{", "[")) for k in all_keys(json.loads(text))}
    assert not [k for k in keys if "mat_khau" in k.lower() or "password" in k.lower()]


# ---------------------------------------------------------------- cancelling


def test_initiator_cancels_and_ready_tasks_go(uow, services, people, published, clock) -> None:  # type: ignore[no-untyped-def]
    requester = people["cv_stc"]
    instance_id = start(uow, services, requester)
    task_id = the_ready_task(uow, instance_id, "Task_LapDeNghi").id

    for outsider in (people["cv_syt"], people["cv_sttt"]):
        with pytest.raises(Forbidden), uow() as u:
            instances.cancel(u, services, outsider, instance_id)
    assert instance_row(uow, instance_id).status == InstanceStatus.RUNNING
    assert task_row(uow, task_id).status == TaskStatus.READY

    clock.advance(minutes=5)
    with uow() as u:
        instances.cancel(u, services, requester, instance_id)
    cancelled = instance_row(uow, instance_id)
    assert (cancelled.status, cancelled.ended_at) == (InstanceStatus.CANCELLED, clock.now)
    assert task_row(uow, task_id).status == TaskStatus.CANCELLED
    with pytest.raises(Conflict):
        complete(uow, services, requester, task_id, REQUEST)
    with pytest.raises(Conflict), uow() as u:
        instances.cancel(u, services, requester, instance_id)


def test_administrator_may_cancel_anyones_instance(uow, services, people, published) -> None:  # type: ignore[no-untyped-def]
    instance_id = start(uow, services, people["cv_stc"])
    with uow() as u:
        instances.cancel(u, services, people["qt"], instance_id)
    assert instance_row(uow, instance_id).status == InstanceStatus.CANCELLED
    assert ready_tasks(uow, instance_id) == []
