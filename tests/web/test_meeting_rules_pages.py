"""The Huế meeting rules in the web app: "Lời mời họp" and its badge, answering on the meeting's page, the host
side's postponement, cancellation and documents, the quarterly report, the JSON API, CSRF and refusals."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from engine.persistence.models import HumanTask, Meeting, MeetingInvitation, Notification, ProcessInstance, User
from engine.services import identity, instances
from tests.engine.attachment_files import docx, pdf
from tests.engine.conftest import Clock
from tests.meeting_rules_procedure import PROCESS_ID, procedure_files, registration
from tests.web.conftest import PASSWORD, Browser
from tests.web.test_api import ApiUser, assert_error
from tests.web.test_sla_pages import use_clock
from webapp import platform
from webapp.extensions import db
from webapp.platform import services, uow

VN = ZoneInfo("Asia/Ho_Chi_Minh")
#: Thursday 26 November 2026, 09:00: the meeting is a week later.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=VN)
TITLE = "Hội nghị triển khai nhiệm vụ chuyển đổi số"
#: The people of the invited units (Sở Y tế, Sở TT&TT), in their platform inboxes.
INVITEES = ("user:cv_syt", "user:ld_syt", "user:cv_sttt", "user:qt")


@dataclass
class Booked:
    meeting_id: int
    instance_id: int
    clock: Clock


def add_people(app: Flask) -> None:
    """A leader of Sở Y tế (invited), and someone of a unit neither hosting nor invited."""
    with app.app_context(), uow() as work:
        identity.ensure_unit(work, "so_gd", "Sở Giáo dục và Đào tạo")
        identity.create_user(work, "cv_sgd", "Mai Thị Giáo", PASSWORD, "so_gd", ["chuyen_vien"])
        identity.create_user(work, "ld_syt", "Phan Văn Hòa", PASSWORD, "so_yt", ["lanh_dao"])
        work.commit()


def _user(work: Any, username: str) -> User:
    found = work.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def book_meeting(app: Flask, run_worker: Any, data: dict[str, Any] | None = None) -> tuple[int, int]:
    """Sở Tài chính (cv_stc) registers a meeting; the worker sends its invitations. (meeting id, instance id)."""
    with app.app_context(), uow() as work:
        instance_id = instances.start(work, services(), _user(work, "cv_stc"), PROCESS_ID).id
    with app.app_context(), uow() as work:
        task_id = work.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
        assert task_id is not None
        instances.complete_task(work, services(), _user(work, "cv_stc"), task_id, data or registration())
    assert run_worker() == 1
    with app.app_context():
        meeting_id = db.session.scalar(select(Meeting.id).where(Meeting.instance_id == instance_id))
    assert meeting_id is not None
    return int(meeting_id), instance_id


@pytest.fixture
def booked(app: Flask, run_worker: Any) -> Booked:
    clock = use_clock(app, NOW)
    add_people(app)
    with app.app_context(), uow() as work:
        platform.publish(work, procedure_files(), None)
    meeting_id, instance_id = book_meeting(app, run_worker)
    return Booked(meeting_id, instance_id, clock)


def invitation(app: Flask, meeting_id: int, unit: str) -> MeetingInvitation:
    with app.app_context():
        from engine.persistence.models import Unit
        row = db.session.scalar(select(MeetingInvitation).join(Unit, Unit.id == MeetingInvitation.unit_id)
                                .where(MeetingInvitation.meeting_id == meeting_id, Unit.code == unit))
        assert row is not None
        db.session.expunge(row)
        return row


def subjects(app: Flask, recipient: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Notification.subject).where(Notification.recipient == recipient)
                                       .order_by(Notification.id)))


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- invitations and answers


def test_an_invited_unit_sees_its_invitation_first_and_answers_it(booked: Booked, browser: Browser,
                                                                  client: FlaskClient, app: Flask) -> None:
    browser.login("cv_syt")
    home = page(client, "/")
    assert 'class="nav-link nav-invitations"' in home and 'nav-awaiting' in home
    listing = page(client, "/invitations")
    assert TITLE in listing and "Cần trả lời" in listing and "Chờ xác nhận" in listing
    meeting_page = f"/meetings/{booked.meeting_id}"
    html = page(client, meeting_page)  # the calendar's page carries the rules' partial
    assert 'id="quy-che-hop"' in html and "answer-form" in html
    assert "postpone-form" not in html and "cancel-form" not in html  # an invitee is not the host side
    assert "Được ghi hình" in html and "Nguyễn Văn Phương (Chủ tịch UBND tỉnh)" in html

    refused = browser.post(f"/meetings/{booked.meeting_id}/answer", {"answer": "tham_du", "chair_name": "Lê Thị Hà",
                                                                   "back": meeting_page}, page=meeting_page)
    assert refused.status_code == 400
    assert "Nhập chức vụ người chủ trì tại điểm cầu của đơn vị." in refused.get_data(as_text=True)
    assert invitation(app, booked.meeting_id, "so_yt").status == "cho_xac_nhan"

    done = browser.post(f"/meetings/{booked.meeting_id}/answer",
                        {"answer": "tham_du", "chair_name": "Lê Thị Hà", "chair_title": "Phó Giám đốc Sở Y tế",
                         "back": meeting_page}, page=meeting_page)
    assert done.status_code == 302 and done.headers["Location"].endswith(meeting_page)
    row = invitation(app, booked.meeting_id, "so_yt")
    assert (row.status, row.chair_name, row.chair_title) == ("tham_du", "Lê Thị Hà", "Phó Giám đốc Sở Y tế")
    html = page(client, meeting_page)
    assert "Lê Thị Hà — Phó Giám đốc Sở Y tế" in html and "Thay đổi trả lời" in html
    assert "nav-awaiting" not in html
    english = page(client, f"{meeting_page}?lang=en")
    assert "Invited units and their answers" in english and "Change your unit's answer" in english
    assert "Meeting invitations" in page(client, "/invitations")


def test_a_unit_not_invited_cannot_answer_nor_see_the_rules(booked: Booked, browser: Browser,
                                                            client: FlaskClient) -> None:
    browser.login("cv_sgd")
    assert "nav-awaiting" not in page(client, "/")
    assert "chưa nhận lời mời họp nào" in page(client, "/invitations")
    html = page(client, f"/meetings/{booked.meeting_id}")  # the calendar is everyone's …
    assert 'id="quy-che-hop"' not in html  # … the invitations and documents are not
    assert client.get(f"/invitations/{booked.meeting_id}").status_code == 403
    answer = browser.post(f"/meetings/{booked.meeting_id}/answer", {"answer": "tham_du", "chair_name": "A",
                                                                   "chair_title": "B"}, page="/invitations")
    assert answer.status_code == 403
    assert "không có trong thành phần mời" in answer.get_data(as_text=True)
    for action in ("postpone", "cancel"):
        refused = browser.post(f"/meetings/{booked.meeting_id}/{action}",
                               {"ngay_hop": "2026-12-05", "gio_bat_dau": "08:00", "reason": "x"}, page="/invitations")
        assert refused.status_code == 403


def test_forged_posts_are_refused(booked: Booked, browser: Browser, client: FlaskClient, app: Flask) -> None:
    browser.login("cv_stc")
    for action, data in (("answer", {"answer": "tu_choi", "reason": "x"}), ("cancel", {"reason": "x"}),
                         ("postpone", {"ngay_hop": "2026-12-05", "gio_bat_dau": "08:00", "reason": "x"})):
        response = client.post(f"/meetings/{booked.meeting_id}/{action}", data=data)
        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
    forged = client.post(f"/meetings/{booked.meeting_id}/documents",
                         data={"file": (io.BytesIO(pdf()), "a.pdf")}, content_type="multipart/form-data")
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.get(Meeting, booked.meeting_id).state == "da_xac_nhan"


# ---------------------------------------------------------------- the host side


def test_the_host_postpones_then_cancels_and_every_invitee_is_told(booked: Booked, browser: Browser,
                                                                   client: FlaskClient, app: Flask) -> None:
    browser.login("cv_stc")
    meeting_page = f"/meetings/{booked.meeting_id}"
    html = page(client, meeting_page)
    assert "postpone-form" in html and "cancel-form" in html and "document-upload" in html
    assert "answer-form" not in html  # the host unit is not among the invited

    bad = browser.post(f"/meetings/{booked.meeting_id}/postpone",
                       {"ngay_hop": "2026-11-20", "gio_bat_dau": "09:00", "reason": "Trùng lịch", "back": meeting_page},
                       page=meeting_page)
    assert bad.status_code == 400
    assert "Thời gian họp mới phải sau thời điểm hiện tại." in bad.get_data(as_text=True)
    moved = browser.post(f"/meetings/{booked.meeting_id}/postpone",
                         {"ngay_hop": "2026-12-04", "gio_bat_dau": "14:00", "gio_ket_thuc": "16:30",
                          "reason": "Trùng lịch làm việc với Bộ", "back": meeting_page}, page=meeting_page)
    assert moved.status_code == 302
    with app.app_context():
        row = db.session.get(Meeting, booked.meeting_id)
        assert row is not None and row.state == "hoan"
        assert row.starts_at == datetime(2026, 12, 4, 14, 0, tzinfo=VN)
        assert row.ends_at == datetime(2026, 12, 4, 16, 30, tzinfo=VN)
    html = page(client, meeting_page)
    assert "Đã hoãn cuộc họp và thông báo tới 4 người được mời." in html

    cancelled = browser.post(f"/meetings/{booked.meeting_id}/cancel",
                             {"reason": "UBND tỉnh thay đổi kế hoạch", "back": meeting_page}, page=meeting_page)
    assert cancelled.status_code == 302
    for person in INVITEES:
        assert subjects(app, person) == [f"Giấy mời họp: {TITLE}", f"Hoãn họp: {TITLE}", f"Hủy họp: {TITLE}"]
    with app.app_context():
        instance = db.session.get(ProcessInstance, booked.instance_id)
        assert instance is not None and instance.status.value == "cancelled"
    html = page(client, meeting_page)
    assert "Cuộc họp đã bị hủy." in html and "cancel-form" not in html
    again = browser.post(f"/meetings/{booked.meeting_id}/cancel", {"reason": "x"},
                         page=f"/invitations/{booked.meeting_id}")
    assert again.status_code == 409


def test_documents_go_to_the_invitees_with_their_due_time(booked: Booked, browser: Browser, client: FlaskClient,
                                                          app: Flask) -> None:
    browser.login("cv_stc")
    meeting_page = f"/meetings/{booked.meeting_id}"
    html = page(client, meeting_page)
    assert "02/12/2026 17:00" in html and "Chưa đến hạn" in html and "Tài liệu chậm" not in html

    def send(name: str, content: bytes) -> Any:
        token = browser.csrf(meeting_page)
        return client.post(f"/meetings/{booked.meeting_id}/documents", content_type="multipart/form-data",
                           data={"csrf_token": token, "back": meeting_page, "file": (io.BytesIO(content), name)})

    wrong = send("Đề cương.pdf", docx())
    assert wrong.status_code == 400 and "phần mở rộng phải là .docx" in wrong.get_data(as_text=True)
    outline = docx()
    assert send("Đề cương.docx", outline).status_code == 302
    html = page(client, meeting_page)
    assert "Đề cương.docx" in html and "Đã gửi đúng hạn" in html
    assert subjects(app, "user:cv_syt")[-1] == f"Tài liệu họp: {TITLE}"

    client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("cv_syt")
    html = page(client, f"/invitations/{booked.meeting_id}")
    href = html[html.index(f"/meetings/{booked.meeting_id}/documents/"):].split('"')[0]
    download = client.get(href)
    assert download.status_code == 200 and download.data == outline
    assert "attachment" in download.headers["Content-Disposition"]
    client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("cv_sgd")
    assert client.get(href).status_code == 403


def test_the_overdue_flag_shows_on_the_meeting_page_and_the_calendar(booked: Booked, browser: Browser,
                                                                     client: FlaskClient) -> None:
    browser.login("cv_stc")
    week = page(client, "/meetings?view=week&date=2026-12-03")
    assert "meeting-documents-late" not in week  # not due yet
    booked.clock.now = datetime(2026, 12, 2, 17, 1, tzinfo=VN)
    html = page(client, f"/meetings/{booked.meeting_id}")
    assert "documents-late" in html and "Tài liệu chậm" in html and "Quá hạn, chưa gửi" in html
    week = page(client, "/meetings?view=week&date=2026-12-03")
    row = week[week.index(f'id="meeting-{booked.meeting_id}"'):]
    assert "meeting-documents-late" in row[:row.index("</tr>")]


# ---------------------------------------------------------------- the quarterly report


def test_the_quarterly_report_for_leaders(booked: Booked, browser: Browser, client: FlaskClient) -> None:
    browser.login("cv_stc")
    assert client.get("/meetings/report").status_code == 403
    assert client.get("/meetings/report.docx").status_code == 403
    client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("ld_syt")
    assert "meetings-report" in page(client, "/meetings")  # the calendar links leaders to it
    html = page(client, "/meetings/report?year=2026&quarter=4")
    assert "Từ ngày 01/10/2026 đến ngày 31/12/2026" in html and TITLE in html
    assert "Sở Y tế" in html and "Sở Thông tin và Truyền thông" in html
    assert "Quý “7” không hợp lệ" in page(client, "/meetings/report?year=2026&quarter=7", 400)

    word = client.get("/meetings/report.docx?year=2026&quarter=4")
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    assert "bao-cao-hoi-nghi-truyen-hinh-q4-2026.docx" in word.headers["Content-Disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(word.data)).paragraphs)
    assert "Tình hình tổ chức Hội nghị truyền hình quý IV năm 2026" in text
    assert "Tổng số cuộc họp trong quý: 1; đã tổ chức: 0; bị hủy: 0; bị hoãn: 0" in text
    sheet = load_workbook(io.BytesIO(client.get("/meetings/report.xlsx?year=2026&quarter=4").data)).active
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert ("Trả lời giấy mời: Sở Y tế", "Chưa trả lời", 1) in rows


# ---------------------------------------------------------------- the JSON API


def api_user(client: FlaskClient, username: str) -> ApiUser:
    return ApiUser(client, username)


def test_the_api_answers_postpones_cancels_and_sends_documents(booked: Booked, client: FlaskClient,
                                                               app: Flask) -> None:
    invitee, host, stranger = api_user(client, "cv_syt"), api_user(client, "cv_stc"), api_user(client, "cv_sgd")
    (item,) = invitee.get("/invitations").get_json()
    assert (item["meeting"]["id"], item["status"], item["awaiting"]) == (booked.meeting_id, "cho_xac_nhan", True)
    assert item["meeting"]["starts_at"] == "2026-12-03T08:00:00+07:00"
    assert stranger.get("/invitations").get_json() == []

    path = f"/meetings/{booked.meeting_id}"
    assert_error(invitee.post(f"{path}/answer", json={"answer": "tham_du", "chair_name": "Lê Thị Hà"}),
                 400, "invalid_data")
    assert_error(invitee.post(f"{path}/answer", json={"answer": "co_le"}), 400, "invalid_request")
    assert_error(stranger.post(f"{path}/answer", json={"answer": "tu_choi", "reason": "x"}), 403, "forbidden")
    answered = invitee.post(f"{path}/answer", json={"answer": "tu_choi", "reason": "Trùng lịch tiếp dân"})
    assert answered.status_code == 200
    assert (answered.get_json()["status"], answered.get_json()["reason"]) == ("tu_choi", "Trùng lịch tiếp dân")
    table = {row["unit"]: row for row in host.get(f"{path}/invitations").get_json()}
    assert table["so_yt"]["responded_by"] == "Huỳnh Thị Lan" and table["sttt"]["status"] == "cho_xac_nhan"
    assert_error(stranger.get(f"{path}/invitations"), 403, "forbidden")

    sent = host.post(f"{path}/documents", data={"file": (io.BytesIO(pdf()), "Báo cáo.pdf")},
                     content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["notified"] == len(INVITEES)
    assert_error(invitee.post(f"{path}/documents", data={"file": (io.BytesIO(pdf()), "x.pdf")},
                              content_type="multipart/form-data"), 403, "forbidden")
    listed = invitee.get(f"{path}/documents").get_json()
    assert listed["due_at"] == "2026-12-02T17:00:00+07:00" and listed["state"] == "dung_han"
    (doc,) = listed["files"]
    assert invitee.get(doc["content"].removeprefix("/api/v1")).data == pdf()
    assert_error(stranger.get(doc["content"].removeprefix("/api/v1")), 403, "forbidden")

    assert_error(invitee.post(f"{path}/postpone", json={"ngay_hop": "2026-12-05", "gio_bat_dau": "08:00",
                                                       "reason": "x"}), 403, "forbidden")
    assert_error(host.post(f"{path}/postpone", json={"ngay_hop": "2026-12-05", "gio_bat_dau": "8 giờ",
                                                    "reason": "x"}), 400, "invalid_data")
    moved = host.post(f"{path}/postpone", json={"ngay_hop": "2026-12-05", "gio_bat_dau": "08:00",
                                                "reason": "Đổi lịch"})
    assert moved.status_code == 200
    assert moved.get_json()["meeting"]["starts_at"] == "2026-12-05T08:00:00+07:00"
    assert moved.get_json()["notified"] == len(INVITEES) and moved.get_json()["not_delivered"] == []
    assert_error(host.post(f"{path}/cancel", json={}), 400, "invalid_request")
    done = host.post(f"{path}/cancel", json={"reason": "Không tổ chức nữa"})
    assert done.status_code == 200 and done.get_json()["meeting"]["state"] == "huy"
    assert_error(host.post(f"{path}/cancel", json={"reason": "x"}), 409, "conflict")
    assert subjects(app, "user:cv_sttt")[-1] == f"Hủy họp: {TITLE}"
