"""A planned meeting (meeting_planned, Hòa Bình II.1) in Chromium, as the demo people of
engine/services/demo.py do it: Văn phòng UBND tỉnh records the notice and picks the invited units from the
organisation's units; at the meeting time the operator logs the chair's connection requests (a connection
before its request is refused by the server) and the incidents; Văn phòng UBND tỉnh sees the figures, read-only,
on the evaluation form. The steps in between are done through the use cases on the app's moved clock."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from engine.persistence.models import HumanTask, ProcessInstance, User
from engine.services import instances
from tests.e2e.conftest import artifact_path
from tests.e2e.demo_people import demo_passwords, log_in, start_demo_dossier
from tests.e2e.test_email_account_browser import complete_task, log_out, open_task, required_label
from tests.e2e.test_project_software_account_browser import fill_date
from tests.engine.test_meeting_sessions import CONNECTED, RECEIVED, REHEARSED, at
from tests.web.test_sla_pages import use_clock
from webapp.platform import services, uow

pytestmark = pytest.mark.e2e


@pytest.fixture
def passwords(app: Flask) -> dict[str, str]:
    """The demo organisation as `make run` creates it (Văn phòng UBND tỉnh, the district, VNPT)."""
    return demo_passwords(app)


def do_task(app: Flask, username: str, instance_id: int, element_id: str, data: dict[str, Any]) -> None:
    """A step done through the use case, as the person would on their form."""
    with app.app_context(), uow() as work:
        actor = work.session.scalar(select(User).where(User.username == username))
        task_id = work.session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.element_id == element_id, HumanTask.status == "ready"))
        assert actor is not None and task_id is not None
        instances.complete_task(work, services(), actor, task_id, data)


def fill_time(field: Locator, clock_time: str) -> None:
    field.fill(clock_time)
    field.press("Enter")


def log_request(row: Locator, endpoint: str, asked: str, connected: str, note: str = "") -> None:
    row.get_by_label(required_label("Điểm cầu được gọi")).fill(endpoint)
    row.get_by_label(required_label("Giờ yêu cầu")).fill(asked)
    row.get_by_label(required_label("Giờ kết nối được")).fill(connected)
    if note:
        row.get_by_label("Ghi chú").fill(note)


def test_the_operator_logs_the_session_and_the_office_sees_the_figures(
        app: Flask, page: Page, passwords: dict[str, str], run_worker: Callable[[], int]) -> None:
    clock = use_clock(app, at(26, 9))
    page.emulate_media(reduced_motion="reduce")

    # ---- Văn phòng UBND tỉnh records the notice ----
    start_demo_dossier(page, passwords, "chuyenvien_vpubnd", "phiên họp trực tuyến có kế hoạch")
    expect(page.get_by_role("heading", name="Gửi văn bản thông tin tổ chức phiên họp")).to_be_visible()
    with app.app_context(), uow() as work:
        instance_id = work.session.scalar(select(func.max(ProcessInstance.id)))
    form = page.locator("#form-root")
    expect(form.locator(".fjs-form")).to_be_visible()
    form.get_by_label(required_label("Văn bản của Trung tâm Tin học – VPCP (số, ký hiệu)")).fill("125/TTTH-VPCP")
    fill_date(form.get_by_label(required_label("Ngày văn bản")), "25/11/2026")
    form.get_by_label(required_label("Nội dung phiên họp")).fill(
        "Hội nghị trực tuyến Chính phủ với các địa phương về phòng, chống thiên tai")
    level = form.locator(".fjs-form-field-select", has_text="Cấp họp")
    level.locator(".fjs-select-display").click()
    level.locator(".fjs-dropdownlist").get_by_text("TW - Tỉnh - Huyện - Xã", exact=True).click()
    form.get_by_label(required_label("Điểm cầu chính của tỉnh (phòng họp)")).fill(
        "Phòng họp trực tuyến Văn phòng UBND tỉnh")
    form.get_by_label(required_label("Cơ quan chủ trì")).fill("Chính phủ")
    form.get_by_label(required_label("Người chủ trì")).fill("Thủ tướng Chính phủ")
    form.get_by_label(required_label("Chức vụ")).fill("Thủ tướng")
    fill_date(form.get_by_label(required_label("Ngày họp")), "27/11/2026")
    fill_time(form.get_by_label(required_label("Giờ bắt đầu")), "14:00")
    fill_date(form.get_by_label(required_label("Ngày tổng duyệt")), "27/11/2026")
    fill_time(form.get_by_label(required_label("Giờ tổng duyệt")), "09:00")
    fill_time(form.get_by_label(required_label("Giờ kết nối chính thức (ngày họp)")), "13:00")
    # The invited units come from the organisation's units (options = units).
    units = form.locator(".fjs-form-field-taglist")
    for name in ("UBND huyện Cao Lãnh", "VNPT Đồng Tháp"):
        units.locator("input").fill(name.split()[-1])
        units.locator(".fjs-dropdownlist").get_by_text(name, exact=True).click()
    expect(units.locator(".fjs-taglist-tag")).to_have_text(["UBND huyện Cao Lãnh", "VNPT Đồng Tháp"])
    units.locator("input").press("Escape")
    expect(units.locator(".fjs-dropdownlist")).to_have_count(0)
    leader = form.locator(".fjs-form-field-select", has_text="Lãnh đạo Văn phòng UBND tỉnh theo dõi")
    leader.locator(".fjs-select-display").click()
    leader.locator(".fjs-dropdownlist").get_by_text("Phan Văn Thành", exact=True).click()
    page.screenshot(path=artifact_path("meeting-01-notice.png"), full_page=True)
    complete_task(page)
    log_out(page)
    assert run_worker() == 1  # the invitations

    # ---- receiving, rehearsal and endpoints, in time ----
    do_task(app, "chuyenvien_huyen", instance_id, "Task_TiepNhan", RECEIVED)
    clock.now = at(27, 10)
    do_task(app, "kythuat_vnpt", instance_id, "Task_KiemTraNoiBo", REHEARSED)
    clock.now = at(27, 13)
    do_task(app, "kythuat_huyen", instance_id, "Task_KetNoiDayDu", CONNECTED)
    clock.now = at(27, 14)
    run_worker()

    # ---- the operator serves the session and logs the chair's connection requests ----
    log_in(page, passwords, "kythuat_vnpt")
    open_task(page, "Phục vụ phiên họp")
    form = page.locator("#form-root")
    requests = form.get_by_role("group", name="Nhật ký yêu cầu kết nối điểm cầu")
    rows = requests.locator(".fjs-repeat-row-container")
    for _ in range(2):
        requests.get_by_role("button", name="Thêm dòng").click()
    expect(rows).to_have_count(2)
    log_request(rows.nth(0), "UBND huyện Cao Lãnh", "14:05:00", "14:05:12")
    log_request(rows.nth(1), "UBND xã Mỹ Hội", "14:20:30", "14:20:15", "Đường truyền xã chậm")  # typed wrong
    incidents = form.get_by_role("group", name="Sự cố trong phiên họp")
    incidents.get_by_role("button", name="Thêm dòng").click()
    incident = incidents.locator(".fjs-repeat-row-container").nth(0)
    fill_time(incident.get_by_label(required_label("Thời điểm")), "14:31")
    incident.get_by_label(required_label("Điểm cầu")).fill("UBND xã Mỹ Hội")
    incident.get_by_label(required_label("Sự cố (mất kết nối, chất lượng suy giảm…)")).fill("Mất tiếng 2 phút")
    incident.get_by_label("Biện pháp khắc phục, người được thông báo").fill("Khởi động lại bộ giải mã")

    page.get_by_role("button", name="Hoàn thành").click()
    server_errors = page.locator(".server-errors")
    expect(server_errors).to_contain_text("Giờ kết nối được")
    expect(server_errors).to_contain_text("Không được sớm hơn “Giờ yêu cầu”.")
    expect(rows.nth(1).locator(".fjs-form-field-error")).to_contain_text("Không được sớm hơn “Giờ yêu cầu”.")
    page.screenshot(path=artifact_path("meeting-02-serve-refused.png"), full_page=True)
    rows.nth(1).get_by_label(required_label("Giờ kết nối được")).fill("14:21:15")
    page.screenshot(path=artifact_path("meeting-03-serve.png"), full_page=True)
    complete_task(page)
    log_out(page)

    # ---- Văn phòng UBND tỉnh sees the figures and evaluates ----
    log_in(page, passwords, "chuyenvien_vpubnd")
    open_task(page, "Tổng hợp, đánh giá chất lượng phiên họp")
    form = page.locator("#form-root")
    for label, value in (("Số yêu cầu kết nối điểm cầu", "2"), ("Thời gian kết nối trung bình (giây)", "28.5"),
                         ("Thời gian kết nối lâu nhất (giây)", "45"), ("Số lần kết nối quá 30 giây", "1"),
                         ("Số sự cố", "1"), ("Sự cố chưa khắc phục", "1")):
        field = form.get_by_label(label, exact=True)
        expect(field).to_have_value(value)
        expect(field).to_have_attribute("readonly", re.compile(".*"))
    log_table = form.get_by_role("table").first
    expect(log_table.get_by_role("row")).to_have_count(3)  # the header and the two requests
    expect(log_table.get_by_role("row").nth(2)).to_contain_text("Quá 30 giây")
    expect(log_table.get_by_role("row").nth(1)).to_contain_text("Đạt")
    expect(form).to_contain_text("đạt mốc tối thiểu 2 giờ trước giờ họp")
    form.get_by_label("Đạt", exact=True).check()
    form.get_by_label("Nhận xét, kiến nghị").fill("Một lần kết nối quá 30 giây tại xã Mỹ Hội.")
    page.screenshot(path=artifact_path("meeting-04-evaluate.png"), full_page=True)
    complete_task(page)
    expect(page.locator("#instance-status")).to_have_text("Đang xử lý")  # the disconnection is left
    page.screenshot(path=artifact_path("meeting-05-instance.png"), full_page=True)
