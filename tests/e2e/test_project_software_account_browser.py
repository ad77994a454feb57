"""project_software_account clicked through in Chromium by each of its actors, logged in as the demo
people of engine/services/demo.py, with the project software at a local peer."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from engine.settings import Settings
from tests.e2e.conftest import artifact_path
from tests.e2e.demo_people import demo_passwords, log_in, start_demo_dossier
from tests.e2e.test_attachments_browser import pick
from tests.e2e.test_email_account_browser import choose, complete_task, log_out, open_task, required_label
from tests.engine.attachment_files import pdf
from tests.engine.project_software_server import ProjectSoftwarePeer

pytestmark = pytest.mark.e2e

#: Two of Sở Tài chính's people, whose official mailboxes the demo directory holds.
PEOPLE = [
    {"email": "donvi@dongthap.gov.vn", "ho_ten": "Trần Thị Bình", "dien_thoai": "0277 3851 234",
     "chuc_vu": "Chuyên viên", "phong_ban": "Phòng Đầu tư"},
    {"email": "lanhdao_donvi@dongthap.gov.vn", "ho_ten": "Võ Minh Đức", "dien_thoai": "0277 3851 235",
     "chuc_vu": "Phó Giám đốc", "phong_ban": "Ban Giám đốc"},
]
SCAN_LABEL = "Bản quét hồ sơ (công văn đề nghị, Biểu số 2.1)"
SCAN_NAME = "Công văn 125-STC-VP và Biểu 2.1.pdf"


@pytest.fixture
def settings(db_url: str, peer: ProjectSoftwarePeer) -> Settings:
    return Settings(database_url=db_url, project_software_url=peer.url, project_software_token=peer.token,
                    soffice_path="off")


@pytest.fixture
def passwords(app: Flask) -> dict[str, str]:
    """The demo organisation (TTCĐS included) as `make run` creates it: username → password."""
    return demo_passwords(app)


def fill_date(field: Locator, day: str) -> None:
    """Types a date (dd/mm/yyyy) into a form-js date field as a person would, then leaves the field."""
    field.fill(day)
    field.press("Enter")


def fill_row(row: Locator, person: dict[str, str]) -> None:
    row.get_by_label(required_label("Email Đồng Tháp")).fill(person["email"])
    row.get_by_label(required_label("Họ và tên")).fill(person["ho_ten"])
    row.get_by_label("Số điện thoại").fill(person["dien_thoai"])
    row.get_by_label("Chức vụ").fill(person["chuc_vu"])
    row.get_by_label("Phòng ban / đơn vị").fill(person["phong_ban"])
    choose(row.locator(".fjs-form-field-select", has_text="Ghi chú (nội dung đề nghị)"), "Cấp mới")


def scan_field(page: Page) -> Locator:
    return page.locator("#form-root .fjs-form-field-filepicker", has_text=SCAN_LABEL)


def test_project_software_account_clicked_through_by_each_actor(
        page: Page, passwords: dict[str, str], run_worker: Callable[[], int], peer: ProjectSoftwarePeer,
        tmp_path: Path) -> None:
    scan = tmp_path / SCAN_NAME
    scan.write_bytes(pdf("Cong van 125/STC-VP va Bieu 2.1"))
    # Bootstrap scrolls smoothly unless motion is reduced; a click scrolled into view mid-animation can miss.
    page.emulate_media(reduced_motion="reduce")
    # ---- the requesting unit (Sở Tài chính) submits the dossier with Biểu 2.1 ----
    start_demo_dossier(page, passwords, "donvi", "phần mềm Quản lý tiến độ dự án")
    expect(page.get_by_role("heading", name="Nộp hồ sơ")).to_be_visible()
    form = page.locator("#form-root")
    expect(form.locator(".fjs-form")).to_be_visible()
    expect(page.locator("#excel-import")).to_contain_text("Danh sách tài khoản (Biểu số 2.1)")

    form.get_by_label("Liên thông trên hệ thống iDesk").check()
    form.get_by_label(required_label("Số, ký hiệu công văn đề nghị")).fill("125/STC-VP")
    fill_date(form.get_by_label(required_label("Ngày công văn")), "20/11/2026")
    form.get_by_label(required_label("Thủ trưởng cơ quan ký công văn")).fill("Nguyễn Văn Giám")
    form.get_by_label("Chức vụ người ký").fill("Giám đốc")
    form.get_by_label(required_label("Nội dung đề nghị, căn cứ")).fill(
        "Căn cứ kế hoạch phân công thực hiện dự án, đề nghị cấp tài khoản cho hai cán bộ.")
    bieu_21 = form.get_by_role("group", name="Danh sách tài khoản (Biểu số 2.1)")
    rows = bieu_21.locator(".fjs-repeat-row-container")
    bieu_21.get_by_role("button", name="Thêm dòng").click()
    expect(rows).to_have_count(2)
    fill_row(rows.nth(0), PEOPLE[0])
    fill_row(rows.nth(1), {**PEOPLE[1], "email": "chua.co@dongthap.gov.vn"})

    # The scanned letter and Biểu 2.1 are required: the form stops until a file is attached.
    complete_button = page.get_by_role("button", name="Hoàn thành")
    complete_button.click()
    expect(scan_field(page).locator(".fjs-form-field-error")).to_have_text("Trường này là bắt buộc.")
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    pick(page, SCAN_LABEL, scan)
    expect(scan_field(page).get_by_role("link", name=SCAN_NAME)).to_be_visible()
    expect(scan_field(page).locator(".fjs-form-field-error")).to_have_count(0)

    # An address the mail directory does not know: refused, with the reason, by that row's field.
    complete_button.click()
    server_errors = page.locator(".server-errors")
    expect(server_errors).to_contain_text("Danh sách tài khoản (Biểu số 2.1), dòng 2 — Email Đồng Tháp")
    expect(server_errors).to_contain_text("chua.co@dongthap.gov.vn chưa có trên hệ thống thư")
    row_error = page.locator("#form-root .fjs-repeat-row-container").nth(1).locator(".fjs-form-field-error")
    expect(row_error).to_contain_text("đăng nhập một lần (SSO)")
    page.screenshot(path=artifact_path("psa-01-unknown-email.png"), full_page=True)
    second = page.locator("#form-root .fjs-repeat-row-container").nth(1)
    second.get_by_label(required_label("Email Đồng Tháp")).fill(PEOPLE[1]["email"])
    expect(scan_field(page).get_by_role("link", name=SCAN_NAME)).to_be_visible()  # the scan stays picked
    complete_task(page)
    expect(page.locator("#instance-status")).to_have_text("Đang xử lý")
    filed = page.locator("#dossier-attachments")
    expect(filed.get_by_role("heading", name="Hồ sơ đính kèm")).to_be_visible()
    expect(filed.locator(".attachment-row")).to_have_count(1)
    expect(filed.locator(".attachment-row")).to_contain_text("Nộp hồ sơ")
    expect(filed.locator(".attachment-row")).to_contain_text("Trần Thị Bình")
    expect(filed.get_by_role("link", name=SCAN_NAME)).to_be_visible()
    log_out(page)

    # ---- reception at the Sở (văn thư) ----
    log_in(page, passwords, "vanthu")
    open_task(page, "Tiếp nhận và chuyển hồ sơ")
    form = page.locator("#form-root")
    expect(form.get_by_role("table")).to_contain_text(PEOPLE[1]["email"])
    # The scan the unit attached, to check against the original: a download link, nothing to change.
    expect(scan_field(page).get_by_role("link", name=SCAN_NAME)).to_be_visible()
    expect(scan_field(page).get_by_role("button")).to_have_count(0)
    form.get_by_label(required_label("Số hồ sơ trên phần mềm một cửa điện tử")).fill("000.00.12.H18-261126-0007")
    fill_date(form.get_by_label(required_label("Ngày tiếp nhận")), "26/11/2026")
    form.get_by_label(required_label("Đã quét (scan) và lưu trữ hồ sơ điện tử")).check()
    page.screenshot(path=artifact_path("psa-02-reception.png"), full_page=True)
    complete_task(page)
    log_out(page)

    # ---- the centre's leader assigns one of the centre's experts ----
    log_in(page, passwords, "lanhdao_ttcds")
    open_task(page, "Phân công chuyên viên")
    expert = page.locator("#form-root .fjs-form-field-select", has_text="Chuyên viên xử lý")
    expert.locator(".fjs-select-display").click()
    expect(expert.locator(".fjs-dropdownlist-item")).to_have_count(2)  # the centre's two experts only
    expert.locator(".fjs-select-display").click()
    choose(expert, "Ngô Thị Mai")
    page.screenshot(path=artifact_path("psa-03-assign.png"), full_page=True)
    complete_task(page)
    history = page.locator("table.history")
    expect(history.get_by_role("row").filter(has_text="Giao việc")).to_contain_text("Ngô Thị Mai")
    log_out(page)

    # ---- the assigned expert checks the dossier ----
    log_in(page, passwords, "chuyenvien_ttcds")
    open_task(page, "Kiểm tra hồ sơ")
    form = page.locator("#form-root")
    expect(form.get_by_role("table")).to_contain_text("Cấp mới")
    with page.expect_download() as download:
        scan_field(page).get_by_role("link", name=SCAN_NAME).click()
    assert download.value.suggested_filename == SCAN_NAME
    assert Path(download.value.path()).read_bytes() == scan.read_bytes()
    expect(scan_field(page).get_by_role("button")).to_have_count(0)
    form.get_by_label("Hồ sơ đầy đủ, chính xác — trình lãnh đạo duyệt").check()
    assessment = form.get_by_label(required_label("Kết quả thẩm định, ý kiến tham mưu"))
    expect(assessment).to_be_visible()
    expect(form.get_by_label(required_label("Lý do từ chối"))).to_have_count(0)
    assessment.fill("Hồ sơ đầy đủ; hai địa chỉ đã có trên hệ thống thư điện tử công vụ. Đề nghị cấp.")
    page.screenshot(path=artifact_path("psa-04-review.png"), full_page=True)
    complete_task(page)
    log_out(page)

    # ---- the centre's leader, then the Sở's leader, approve ----
    for username, step, choice in (("lanhdao_ttcds", "Lãnh đạo Trung tâm duyệt", "Đồng ý, trình Lãnh đạo Sở"),
                                   ("lanhdao", "Lãnh đạo Sở duyệt", "Đồng ý, thực hiện trên phần mềm")):
        log_in(page, passwords, username)
        open_task(page, step)
        expect(page.locator("#form-root").get_by_label("Kết quả thẩm định của chuyên viên")).to_have_value(
            re.compile(r"^Hồ sơ đầy đủ; hai địa chỉ đã có"))
        page.locator("#form-root").get_by_label(choice).check()
        if username == "lanhdao":
            page.screenshot(path=artifact_path("psa-05-approve.png"), full_page=True)
        complete_task(page)
        log_out(page)

    # The worker (a separate process in production) carries out each row on the project software.
    assert run_worker() == 2
    assert sorted(peer.users) == sorted(p["email"] for p in PEOPLE)

    # ---- the văn thư records the result; the notice letter is issued ----
    log_in(page, passwords, "vanthu")
    open_task(page, "Vào sổ và ghi nhận kết quả")
    form = page.locator("#form-root")
    results = form.get_by_role("table")
    for person in PEOPLE:
        expect(results.get_by_role("row").filter(has_text=person["ho_ten"])).to_contain_text("Đã cấp mới tài khoản")
    expect(form.get_by_label(required_label("Nội dung thông báo"))).to_have_value(
        re.compile(r"^Thực hiện đề nghị tại Công văn số 125/STC-VP ngày 20/11/2026 "))
    form.get_by_label(required_label("Số vào sổ theo dõi hồ sơ")).fill("TD-2026/0415")
    form.get_by_label(required_label("Đã cập nhật kết quả vào phần mềm một cửa điện tử")).check()
    form.get_by_label("Quyền hạn ký").fill("KT. GIÁM ĐỐC")
    form.get_by_label(required_label("Chức vụ người ký")).fill("PHÓ GIÁM ĐỐC")
    form.get_by_label(required_label("Họ và tên người ký")).fill("Nguyễn Quốc Hùng")
    page.screenshot(path=artifact_path("psa-06-record.png"), full_page=True)
    complete_task(page)
    assert run_worker() == 1
    page.reload()

    expect(page.locator("#instance-status")).to_have_text("Hoàn thành")
    expect(page.get_by_role("cell", name="01/TB-STTTT", exact=True)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải DOCX").click()
    assert download.value.suggested_filename.endswith(".docx")
    results_table = page.locator("table.results")
    for person in PEOPLE:
        expect(results_table.get_by_role("row").filter(has_text=person["ho_ten"])).to_contain_text(person["email"])
    expect(page.locator('#diagram [data-element-id="EndEvent_DaTraKetQua"].marker-done')).to_be_attached()
    page.screenshot(path=artifact_path("psa-07-completed.png"), full_page=True)
    page.locator("#diagram").screenshot(path=artifact_path("psa-08-diagram.png"))
