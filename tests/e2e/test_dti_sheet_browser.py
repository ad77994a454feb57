"""The DTI pages in Chromium: an administrator of the Sở TT&TT imports the example index set and opens a round for
three units; an officer of Sở Tài chính fills the scoring sheet (totals follow, an over-max score and an evidence
file of the wrong kind are refused beside the line), reloads and finds the draft kept, submits; the expert adjusts
a score (a reason is required); the unit responds; the remaining steps run through the services and the ranking
page shows its bars once published. Screenshots: test-artifacts/dti-1*.png."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.persistence.models import DtiRound, User
from engine.services import dti_evidence, dti_rounds, dti_scores, dti_sheet, instances
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in, log_out, open_task
from tests.engine.attachment_files import pdf, png
from tests.engine.dti_files import EXAMPLE, STAFF, UNITS
from tests.web.conftest import add_people
from webapp.platform import services, uow

pytestmark = pytest.mark.e2e


def user(username: str) -> User:
    with uow() as work:
        found = work.session.scalar(select(User).where(User.username == username))
        assert found is not None
        _ = (found.unit.code, found.role_codes)
        return found


def score_rest(app: Flask, round_id: int, unit: str, username: str, value: str = "max") -> None:
    """Scores every leaf of the unit not scored yet (0, or the maximum with an evidence file)."""
    with app.app_context():
        officer = user(username)
        with uow() as work:
            lines = dti_sheet.sheet(work, services(), officer, round_id, unit).lines
        for line in lines:
            if not line.is_leaf or line.self_score is not None:
                continue
            points = line.max_points // 100 if value == "max" else 0
            with uow() as work:
                dti_scores.save_self_score(work, services(), officer, round_id, unit, line.code, score=points)
            if points and line.evidence_text and not line.evidence:
                with uow() as work:
                    dti_evidence.upload(work, services(), officer, round_id, unit, line.code,
                                        file_name="minh-chung.pdf", content=pdf(line.code))


def step(app: Flask, round_id: int, unit: str, username: str, data: dict[str, Any]) -> None:
    with app.app_context(), uow() as work:
        dti_scores.complete_step(work, services(), user(username), round_id, unit, data)


def round_task(app: Flask, round_id: int, username: str, data: dict[str, Any]) -> None:
    with app.app_context():
        with uow() as work:
            task_id = dti_rounds.round_view(work, services(), user(username), round_id).task_id
        assert task_id is not None
        with uow() as work:
            instances.complete_task(work, services(), user(username), task_id, data)


def line(page: Page, code: str) -> Any:
    return page.locator(f'.dti-leaf[data-code="{code}"]')


def sheet_ready(page: Page) -> None:
    """Wait until the sheet's script listens: typing before then would be lost."""
    expect(page.locator("#dti-sheet")).to_have_attribute("data-ready", "true")


def test_a_dti_round_on_its_pages(app: Flask, page: Page) -> None:
    add_people(app, STAFF, UNITS)

    # ---- the Sở TT&TT imports the example index set and opens a round for three units ----
    log_in(page, "cv_sttt", "Lê Văn Cường")
    page.locator(".nav-dti").click()
    page.get_by_role("link", name="Bộ chỉ số").click()
    page.get_by_label("Tên bộ chỉ số").fill("Bộ chỉ số mẫu")
    page.get_by_label("Năm đánh giá").fill("2026")
    page.get_by_label("Tệp Excel (.xlsx)").set_input_files(str(EXAMPLE))
    page.get_by_role("button", name="Nhập", exact=True).click()
    expect(page.get_by_text(re.compile(r"Đã nhập bộ chỉ số “Bộ chỉ số mẫu”"))).to_be_visible()
    expect(page.locator(".dti-tree")).to_contain_text("Ban hành kế hoạch chuyển đổi số năm")
    page.screenshot(path=artifact_path("dti-10-index-set.png"), full_page=True)
    page.get_by_role("link", name="Mở kỳ đánh giá với bộ này").click()
    with app.app_context():
        when = (services().now() + timedelta(days=20)).date().isoformat()
    page.get_by_label("Hạn nộp báo cáo tự đánh giá").fill(when)
    for name in ("Sở Tài chính", "Sở Y tế", "Sở Xây dựng"):
        page.get_by_label(name, exact=True).check()
    page.screenshot(path=artifact_path("dti-11-open-round.png"), full_page=True)
    page.get_by_role("button", name="Mở kỳ đánh giá").click()
    expect(page.get_by_text("Đã mở kỳ đánh giá")).to_be_visible()
    expect(page.locator(".dti-participants tbody tr")).to_have_count(3)
    round_id = int(page.url.rstrip("/").split("/")[-1])
    log_out(page)

    # ---- the unit scores on its sheet ----
    log_in(page, "cv_stc", "Trần Thị Bình")
    open_task(page, "Tự đánh giá, nộp báo cáo")  # the task's form links to the sheet
    page.locator("#form-root").get_by_role("link", name="Mở phiếu chấm điểm của đơn vị").click()
    expect(page.get_by_role("heading", name=re.compile("Phiếu chấm điểm: Sở Tài chính"))).to_be_visible()
    sheet_ready(page)
    group = page.locator('.dti-group[data-group="Nhận thức số"]')
    tin_bai = line(page, "1.2.1")
    tin_bai.locator(".dti-self-input").fill("2,5")
    expect(group.locator('[data-group-total="self"]')).to_have_text("2,5")
    expect(page.locator('#line-1\\.2 .dti-sum-self')).to_have_text("2,5")
    tin_bai.locator(".dti-self-input").blur()
    expect(tin_bai.locator(".dti-status")).to_have_text("Đã lưu")
    line(page, "1.1").locator(".dti-self-input").select_option(label="Đạt (4)")
    expect(line(page, "1.1").locator(".dti-status")).to_have_text("Đã lưu")
    expect(page.locator('[data-total="self"]')).to_have_text("6,5")
    ket_qua = line(page, "1.5")
    ket_qua.locator(".dti-self-input").fill("9")
    expect(ket_qua.locator(".dti-status")).to_have_text("Điểm tối đa là 4.")
    expect(page.locator('[data-total="self"]')).to_have_text("6,5")
    ket_qua.locator(".dti-self-input").fill("3")
    ket_qua.locator(".dti-note-input").fill("Hoàn thành 9/12 nhiệm vụ")
    ket_qua.locator(".dti-note-input").blur()
    expect(ket_qua.locator(".dti-status")).to_have_text("Đã lưu")
    tin_bai.locator(".dti-file-input").set_input_files(
        files=[{"name": "tin-bai.pdf", "mimeType": "application/pdf", "buffer": png()}])
    expect(tin_bai.locator(".dti-file-error")).to_contain_text("tin-bai.pdf")
    tin_bai.locator(".dti-file-input").set_input_files(
        files=[{"name": "tin-bai.pdf", "mimeType": "application/pdf", "buffer": pdf("Tin bai")}])
    expect(tin_bai.locator(".dti-files")).to_contain_text("tin-bai.pdf")
    expect(tin_bai.locator(".dti-file-error")).to_have_text("")
    page.screenshot(path=artifact_path("dti-12-sheet-self.png"), full_page=False)

    page.reload()
    sheet_ready(page)
    expect(line(page, "1.2.1").locator(".dti-self-input")).to_have_value("2,5")
    expect(line(page, "1.5").locator(".dti-note-input")).to_have_value("Hoàn thành 9/12 nhiệm vụ")
    expect(page.locator('[data-total="self"]')).to_have_text("9,5")
    page.get_by_label(re.compile("Đơn vị xác nhận điểm tự đánh giá")).check()
    page.get_by_role("button", name="Nộp bản tự đánh giá").click()
    expect(page.locator("#dti-step .dti-errors")).to_contain_text(re.compile(r"còn \d+ chỉ số chưa chấm điểm"))
    expect(page.locator("#dti-step .dti-errors")).to_contain_text("2 chỉ số có điểm nhưng chưa có tài liệu kiểm chứng")
    page.locator("#dti-step").screenshot(path=artifact_path("dti-13-submit-refused.png"))

    score_rest(app, round_id, "so_tc", "cv_stc", value="zero")
    for code in ("1.1", "1.5"):
        with app.app_context(), uow() as work:
            dti_evidence.upload(work, services(), user("cv_stc"), round_id, "so_tc", code, file_name="bao-cao.pdf",
                                content=pdf("Bao cao"))
    page.goto(f"/dti/rounds/{round_id}/units/so_tc")  # not a reload: that would post the refused form again
    sheet_ready(page)
    page.get_by_label(re.compile("Đơn vị xác nhận điểm tự đánh giá")).check()
    page.get_by_role("button", name="Nộp bản tự đánh giá").click()
    expect(page.get_by_text("Đã hoàn thành bước “Đơn vị tự đánh giá”.")).to_be_visible()
    expect(page.locator(".dti-self-input")).to_have_count(0)
    log_out(page)

    # ---- the expert adjusts one score: the reason is required ----
    log_in(page, "cv_sttt", "Lê Văn Cường")
    page.goto(f"/dti/rounds/{round_id}/units/so_tc")
    sheet_ready(page)
    tin_bai = line(page, "1.2.1")
    tin_bai.locator(".dti-expert-input").fill("1,5")
    tin_bai.locator(".dti-expert-input").blur()
    expect(tin_bai.locator(".dti-status")).to_have_text(re.compile("phải nêu lý do điều chỉnh"))
    tin_bai.locator(".dti-reason-input").fill("Chỉ 6 tin bài đạt yêu cầu.")
    tin_bai.locator(".dti-reason-input").blur()
    expect(tin_bai.locator(".dti-status")).to_have_text("Đã lưu")
    expect(page.locator('[data-total="final"]')).to_have_text("8,5")
    tin_bai.locator(".dti-history-button").click()
    expect(tin_bai.locator(".dti-history-table")).to_contain_text("Chỉ 6 tin bài đạt yêu cầu.")
    expect(tin_bai.locator(".dti-history-table")).to_contain_text("Trần Thị Bình")
    page.screenshot(path=artifact_path("dti-14-sheet-expert.png"), full_page=False)
    page.get_by_label("Nhận xét chung của Sở TT&TT").fill("Đơn vị tự đánh giá cơ bản chính xác.")
    page.get_by_role("button", name="Hoàn thành đánh giá độc lập").click()
    expect(page.get_by_text("Đã hoàn thành bước “Sở TT&TT đánh giá độc lập”.")).to_be_visible()
    log_out(page)

    # ---- the unit sees the adjustment and responds once ----
    log_in(page, "cv_stc", "Trần Thị Bình")
    page.goto(f"/dti/rounds/{round_id}/units/so_tc")
    sheet_ready(page)
    tin_bai = line(page, "1.2.1")
    expect(tin_bai.locator(".dti-reason-text")).to_have_text("Chỉ 6 tin bài đạt yêu cầu.")
    tin_bai.locator(".dti-response-input").fill("Đơn vị có 8 tin bài, bổ sung danh sách.")
    tin_bai.get_by_role("button", name="Gửi phản hồi").click()
    expect(tin_bai.locator(".dti-response-text")).to_contain_text("Đơn vị có 8 tin bài")
    expect(tin_bai.locator(".dti-response-input")).to_have_count(0)
    page.screenshot(path=artifact_path("dti-15-sheet-response.png"), full_page=False)
    log_out(page)

    # ---- the rest of the round through the services, then the published ranking ----
    for unit, username, value in (("so_yt", "cv_syt", "max"), ("so_xd", "cv_sxd", "zero")):
        score_rest(app, round_id, unit, username, value)
        step(app, round_id, unit, username, {"xac_nhan_tu_danh_gia": True})
        step(app, round_id, unit, "cv_sttt", {"nhan_xet_danh_gia": "Đạt."})
    step(app, round_id, "so_tc", "cv_stc", {})
    step(app, round_id, "so_tc", "cv_sttt", {"ket_luan_xem_xet": "Giữ điểm đã điều chỉnh."})
    round_task(app, round_id, "ld_sttt", {"noi_dung_trinh": "Trình kết quả DTI năm 2026."})
    round_task(app, round_id, "ct_ubnd", {"quyet_dinh_phe_duyet": "phe_duyet"})
    round_task(app, round_id, "cv_sttt", {"so_quyet_dinh": "99/QĐ-UBND", "ngay_quyet_dinh": "2026-12-20"})
    with app.app_context(), uow() as work:
        assert work.session.get(DtiRound, round_id).state == "da_cong_bo"

    log_in(page, "cv_syt", "Huỳnh Thị Lan")
    page.goto(f"/dti/rounds/{round_id}")
    page.get_by_role("link", name="Xếp hạng").click()
    expect(page.locator(".dti-published")).to_be_visible()
    table = page.locator(".dti-ranking-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").first).to_contain_text("Sở Y tế")
    expect(page.locator(".dti-chart .dti-chart-bar")).to_have_count(3)
    page.screenshot(path=artifact_path("dti-16-ranking.png"), full_page=True)
