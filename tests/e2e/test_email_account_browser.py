"""The email-account procedure end to end in Chromium, clicking through the pages as its users do."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import artifact_path
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.e2e

INDIVIDUALS = [
    {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "chuc_vu": "Chuyên viên"},
    {"ho_ten": "Phạm Thị Hoa", "don_vi": "Văn phòng Sở", "chuc_vu": "Phó Chánh Văn phòng"},
]
ADDRESSES = ["annv@dongthap.gov.vn", "hoapt@dongthap.gov.vn"]


def required_label(text: str) -> re.Pattern[str]:
    """Exactly this label, with or without form-js' asterisk for required fields."""
    return re.compile(rf"^{re.escape(text)}\*?$")


def log_in(page: Page, username: str, full_name: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator(".user-badge")).to_contain_text(full_name)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("button", name="Đăng nhập")).to_be_visible()


def complete_task(page: Page) -> None:
    """Clicks "Hoàn thành" under a task form and waits for the instance page."""
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_text("Đã hoàn thành công việc.")).to_be_visible()


def choose(field: Locator, option: str) -> None:
    """Picks an option in a form-js select, which is a custom dropdown rather than a <select>."""
    field.locator(".fjs-select-display").click()
    field.locator(".fjs-dropdownlist").get_by_text(option, exact=True).click()
    expect(field.locator(".fjs-select-display")).to_have_text(option)


def open_task(page: Page, name: str) -> None:
    page.get_by_role("link", name="Việc cần làm").click()
    page.locator(".tasklist").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("#form-root .fjs-form")).to_be_visible()


def test_email_account_request_to_reply_in_the_browser(page: Page, run_worker: Callable[[], int]) -> None:
    # ---- the requesting unit (Sở Tài chính) fills Phụ lục I ----
    log_in(page, "cv_stc", "Trần Thị Bình")
    page.get_by_role("link", name="Khởi tạo hồ sơ").click()
    page.locator(".procedure-card", has_text="thư điện tử công vụ").get_by_role(
        "button", name="Tạo hồ sơ mới").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    task_url = page.url
    expect(page.get_by_role("heading", name="Lập đề nghị theo Phụ lục I")).to_be_visible()
    form = page.locator("#form-root")
    expect(form.locator(".fjs-form")).to_be_visible()

    form.get_by_label("Văn bản liên thông trên iDesk").check()
    form.get_by_label("Số, ký hiệu công văn đề nghị").fill("45/STC-VP")
    individuals = form.get_by_role("group", name="Danh sách tài khoản cá nhân")
    rows = individuals.locator(".fjs-repeat-row-container")
    expect(rows).to_have_count(1)
    # form-js' own English "Add new", shown in Vietnamese by task_form.js
    individuals.get_by_role("button", name="Thêm dòng").click()
    expect(rows).to_have_count(2)
    for row, person in zip(rows.all(), INDIVIDUALS, strict=True):
        row.get_by_label("Họ và tên").fill(person["ho_ten"])
        row.get_by_label("Đơn vị công tác").fill(person["don_vi"])
        row.get_by_label("Chức vụ").fill(person["chuc_vu"])
        choose(row.locator(".fjs-form-field-select", has_text="Nội dung đề nghị (ghi chú)"), "Cấp mới")
    form.get_by_label("Thủ trưởng cơ quan ký đề nghị").fill("Nguyễn Văn Giám")
    form.get_by_label("Chức vụ người ký").fill("Giám đốc")

    # "Nội dung đề nghị" is required: the form refuses to go and says which field is wrong
    content = form.get_by_label(required_label("Nội dung đề nghị"))
    page.get_by_role("button", name="Hoàn thành").click()
    content_field = form.locator(".fjs-form-field", has=page.get_by_label(required_label("Nội dung đề nghị")))
    expect(content_field.locator(".fjs-form-field-error")).to_have_text("Trường này là bắt buộc.")
    expect(content).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(task_url)
    page.screenshot(path=artifact_path("01-request-form-error.png"), full_page=True)

    content.fill("Đề nghị cấp mới thư điện tử công vụ cho hai cán bộ")
    expect(content_field.locator(".fjs-form-field-error")).to_have_count(0)
    page.screenshot(path=artifact_path("02-request-form.png"), full_page=True)
    complete_task(page)

    expect(page.locator("#instance-status")).to_have_text("Đang xử lý")
    diagram = page.locator("#diagram")
    expect(diagram.locator("svg").first).to_be_visible()
    expect(diagram.locator('[data-element-id="Task_XuLyDangKy"].marker-active')).to_be_attached()
    expect(diagram.locator('[data-element-id="Task_LapDeNghi"].marker-done')).to_be_attached()
    page.screenshot(path=artifact_path("03-instance-running.png"), full_page=True)
    log_out(page)

    # ---- the expert at Sở TT&TT checks the list and confirms ----
    log_in(page, "cv_sttt", "Lê Văn Cường")
    open_task(page, "Xử lý nội dung đăng ký")
    table = page.locator("#form-root").get_by_role("table")
    for person in INDIVIDUALS:
        expect(table).to_contain_text(person["ho_ten"])
    page.get_by_label("Ý kiến xử lý").fill("Đủ điều kiện")
    page.get_by_label("Tôi đã kiểm tra đề nghị và đồng ý thực hiện trên hệ thống thư điện tử").check()
    page.screenshot(path=artifact_path("04-process-task.png"), full_page=True)
    complete_task(page)

    # No worker process runs in this test: the worker's loop body is called here instead,
    # on its own database engine, as scripts/worker.py would (one call per account).
    assert run_worker() == 2

    # ---- reply letter ----
    open_task(page, "Phúc đáp công văn")
    results = page.locator("#form-root").get_by_role("table")
    for address in ADDRESSES:
        expect(results).to_contain_text(address)
    page.get_by_label("Nội dung phúc đáp").fill("Sở TT&TT phúc đáp kết quả cấp thư điện tử công vụ.")
    page.get_by_label("Quyền hạn ký").fill("KT. GIÁM ĐỐC")
    page.get_by_label(required_label("Chức vụ người ký")).fill("PHÓ GIÁM ĐỐC")
    page.get_by_label(required_label("Họ và tên người ký")).fill("Nguyễn Quốc Hùng")
    page.screenshot(path=artifact_path("05-reply-task.png"), full_page=True)
    with page.expect_request(lambda r: r.method == "POST" and "/tasks/" in r.url) as posted:
        complete_task(page)
    submitted = json.loads(parse_qs(posted.value.post_data or "")["data"][0])
    assert submitted["nguoi_ky"] == "Nguyễn Quốc Hùng"
    assert submitted["noi_nhan"].startswith("Như trên;")  # the form's default recipients

    # The worker numbers and issues the letter.
    assert run_worker() == 1
    page.reload()
    letters = page.get_by_role("cell", name="01/STTTT-TTCĐS", exact=True)
    expect(letters).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải DOCX").click()
    assert download.value.suggested_filename.endswith(".docx")

    # ---- the finished file ----
    expect(page.locator("#instance-status")).to_have_text("Hoàn thành")
    results_table = page.locator("table.results")
    for person, address in zip(INDIVIDUALS, ADDRESSES, strict=True):
        expect(results_table.get_by_role("row").filter(has_text=person["ho_ten"])).to_contain_text(address)
    steps = page.locator("table.steps")
    for name in ("Lập đề nghị theo Phụ lục I", "Xử lý nội dung đăng ký", "Phúc đáp công văn"):
        expect(steps.get_by_role("row").filter(has_text=name)).to_contain_text("Đã xong")
    history = page.locator("table.history")
    expect(history.get_by_role("row").filter(has_text="Tạo hồ sơ")).to_have_count(1)
    expect(history.get_by_role("row").filter(has_text="Hoàn thành công việc")).to_have_count(3)
    expect(history.get_by_role("row").filter(has_text="Gọi hệ thống")).to_have_count(3)
    expect(diagram.locator('[data-element-id="EndEvent_DaPhucDap"].marker-done')).to_be_attached()
    expect(diagram.locator(".marker-active")).to_have_count(0)
    page.screenshot(path=artifact_path("06-instance-completed.png"), full_page=True)
