"""Filling Phụ lục I's list of individuals from Excel in Chromium: template, import, errors, submit."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.persistence.models import AuditEvent
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in
from webapp.extensions import db

pytestmark = pytest.mark.e2e

LIST_LABEL = "Danh sách tài khoản cá nhân"
PEOPLE = [
    ["Nguyễn Văn An", "Phòng Kế hoạch", "Chuyên viên", "Cấp mới"],
    ["Phạm Thị Hoa", "Văn phòng Sở", "Phó Chánh Văn phòng", "Cấp lại mật khẩu", "hoapt@dongthap.gov.vn"],
    ["Lê Văn Bình", "Phòng Tài chính", None, "Thu hồi", "binhlv@dongthap.gov.vn", "Nghỉ hưu"],
]
EXPECTED_ROWS = [
    {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "chuc_vu": "Chuyên viên", "thao_tac": "cap_moi",
     "dia_chi_hien_tai": "", "ly_do": ""},
    {"ho_ten": "Phạm Thị Hoa", "don_vi": "Văn phòng Sở", "chuc_vu": "Phó Chánh Văn phòng",
     "thao_tac": "cap_lai_mat_khau", "dia_chi_hien_tai": "hoapt@dongthap.gov.vn", "ly_do": ""},
    {"ho_ten": "Lê Văn Bình", "don_vi": "Phòng Tài chính", "chuc_vu": "", "thao_tac": "thu_hoi",
     "dia_chi_hien_tai": "binhlv@dongthap.gov.vn", "ly_do": "Nghỉ hưu"},
]


def fill(template: Path, rows: list[list[Any]], target: Path) -> Path:
    book = openpyxl.load_workbook(template)
    for row in rows:
        book.worksheets[0].append(row)
    book.save(target)
    return target


def import_file(page: Page, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=f"Nhập từ Excel: {LIST_LABEL}").click()
    chooser.value.set_files(str(path))


def test_import_individuals_from_excel(page: Page, app: Flask, tmp_path: Path) -> None:
    log_in(page, "cv_stc", "Trần Thị Bình")
    page.get_by_role("link", name="Khởi tạo hồ sơ").click()
    page.locator(".procedure-card", has_text="thư điện tử công vụ").get_by_role(
        "button", name="Tạo hồ sơ mới").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    form = page.locator("#form-root")
    expect(form.locator(".fjs-form")).to_be_visible()
    toolbar = page.get_by_role("region", name="Nhập danh sách từ Excel")
    expect(toolbar).to_contain_text("Danh sách tài khoản tập thể")

    # Typed before the import: must still be there afterwards.
    form.get_by_label("Văn bản liên thông trên iDesk").check()
    form.get_by_label(re.compile(r"^Nội dung đề nghị\*?$")).fill("Đề nghị cấp, thu hồi thư điện tử công vụ")

    with page.expect_download() as download:
        toolbar.get_by_role("link", name=f"Tải mẫu Excel: {LIST_LABEL}").click()
    assert download.value.suggested_filename == "danh-sach-tai-khoan-ca-nhan.xlsx"
    template = tmp_path / "mau.xlsx"
    download.value.save_as(template)
    good = fill(template, PEOPLE, tmp_path / "danh-sach-ca-nhan.xlsx")

    import_file(page, good)
    status = page.locator("#excel-status")
    expect(status.locator(".alert-success")).to_have_text(
        f"Đã nhập 3 dòng từ tệp “danh-sach-ca-nhan.xlsx” vào “{LIST_LABEL}”. "
        "Hãy xem lại rồi bấm “Hoàn thành” để lưu.")
    individuals = form.get_by_role("group", name=LIST_LABEL)
    rows = individuals.locator(".fjs-repeat-row-container")
    expect(rows).to_have_count(3)
    for row, person in zip(rows.all(), PEOPLE, strict=True):
        expect(row.get_by_label("Họ và tên")).to_have_value(person[0])
        expect(row.get_by_label("Đơn vị công tác")).to_have_value(person[1])
        expect(row.locator(".fjs-form-field-select .fjs-select-display")).to_have_text(person[3])
    expect(form.get_by_label(re.compile(r"^Nội dung đề nghị\*?$"))).to_have_value(
        "Đề nghị cấp, thu hồi thư điện tử công vụ")
    expect(form.get_by_label("Văn bản liên thông trên iDesk")).to_be_checked()
    page.screenshot(path=artifact_path("excel-import-01-imported.png"), full_page=True)

    # A file with mistakes: the errors are listed by row and column, the form keeps its three rows.
    bad = fill(template, [["Trần Văn Cư", "Phòng Kế hoạch", None, "Xin cấp"],
                          [None, "Văn phòng Sở", None, "Cấp mới", "khong-phai-email"]], tmp_path / "sai.xlsx")
    import_file(page, bad)
    errors = status.locator(".excel-errors")
    expect(errors).to_contain_text("Tệp Excel có 3 lỗi; chưa nhập dòng nào.")
    table = errors.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["Dòng", "Cột", "Nội dung lỗi"])
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").nth(0)).to_contain_text("2D (Nội dung đề nghị (ghi chú))“Xin cấp” "
                                                             "không có trong danh sách cho phép")
    expect(table.locator("tbody tr").nth(1)).to_have_text(re.compile(r"^3A \(Họ và tên\)Trường này là bắt buộc\.$"))
    expect(errors).to_contain_text("Chưa nhập dòng nào; biểu mẫu giữ nguyên.")
    expect(rows).to_have_count(3)
    expect(rows.first.get_by_label("Họ và tên")).to_have_value("Nguyễn Văn An")
    page.screenshot(path=artifact_path("excel-import-02-errors.png"), full_page=True)

    form.get_by_label("Thủ trưởng cơ quan ký đề nghị").fill("Nguyễn Văn Giám")
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_text("Đã hoàn thành công việc.")).to_be_visible()
    with app.app_context():
        done = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "complete")).one()
        assert done.after["ca_nhan"] == EXPECTED_ROWS
        assert done.after["noi_dung"] == "Đề nghị cấp, thu hồi thư điện tử công vụ"
