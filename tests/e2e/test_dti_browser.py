"""A DTI round's self-assessment step on the existing task page, in Chromium: the form, the refusal while
indicators are unscored (the engine's check, shown on the page), the submission once scored, and the
round's diagram on the instance page. (The scoring sheet's own pages come with the DTI pages.)"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.persistence.models import User
from engine.services import dti_evidence, dti_index, dti_rounds, dti_scores, identity
from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in, log_out, open_task
from tests.engine.attachment_files import pdf
from tests.engine.dti_files import SMALL, STAFF, UNITS, workbook
from tests.web.conftest import PASSWORD
from webapp.platform import services, uow

pytestmark = pytest.mark.e2e


def as_user(username: str) -> User:
    with uow() as work:
        user = work.session.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


def open_round(app: Flask) -> dict[str, Any]:
    with app.app_context():
        with uow() as work:
            for code, name in UNITS.items():
                identity.ensure_unit(work, code, name)
            for username, (full_name, unit, roles) in STAFF.items():
                identity.create_user(work, username, full_name, PASSWORD, unit, roles)
            work.commit()
        expert = as_user("cv_sttt")
        with uow() as work:
            set_id = dti_index.import_index_set(work, services(), expert, content=workbook(SMALL), file_name="bo.xlsx",
                                                name="Bộ chỉ số thử", year=2026).summary.id
        with uow() as work:
            opened = dti_rounds.open_round(work, services(), expert, index_set_id=set_id,
                                           deadline=(services().now() + timedelta(days=20)).date(),
                                           participants=[{"unit": "so_tc", "group": "so_nganh"},
                                                         {"unit": "so_yt", "group": "so_nganh"}])
            return {"id": opened.id, "instance_id": opened.instance_id}


def score_so_tc(app: Flask, round_id: int) -> None:
    with app.app_context():
        officer = as_user("cv_stc")
        for code, value in {"1.1": 4, "1.2": 6, "2.1": 5}.items():
            with uow() as work:
                dti_scores.save_self_score(work, services(), officer, round_id, "so_tc", code, score=value)
        with uow() as work:
            dti_evidence.upload(work, services(), officer, round_id, "so_tc", "1.1", file_name="ke-hoach.pdf",
                                content=pdf("Ke hoach"))


def test_the_self_assessment_step_on_the_task_page(app: Flask, page: Page) -> None:
    round_ = open_round(app)
    log_in(page, "cv_stc", "Trần Thị Bình")
    open_task(page, "Tự đánh giá, nộp báo cáo")
    task_url = page.url
    form = page.locator("#form-root")
    expect(form).to_contain_text("Kỳ đánh giá: Đánh giá chỉ số chuyển đổi số năm 2026")
    expect(form).to_contain_text("đơn vị: Sở Tài chính")
    expect(form).to_contain_text(re.compile(r"Hạn nộp: 17:00 ngày \d\d/\d\d/20\d\d"))
    form.get_by_label("Tóm tắt báo cáo tự đánh giá").fill("Hoàn thành kế hoạch chuyển đổi số năm 2026.")
    form.get_by_label(re.compile("Đơn vị xác nhận điểm tự đánh giá")).check()
    page.get_by_role("button", name="Hoàn thành").click()
    # The engine refuses: nothing scored yet; the page says how many, and the task stays open.
    expect(page.get_by_text(re.compile("còn 3 chỉ số chưa chấm điểm"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    page.screenshot(path=artifact_path("dti-01-self-assessment-refused.png"), full_page=True)

    score_so_tc(app, round_["id"])
    page.goto(task_url)
    form = page.locator("#form-root")
    form.get_by_label(re.compile("Đơn vị xác nhận điểm tự đánh giá")).check()
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_text("Đã hoàn thành công việc.")).to_be_visible()
    log_out(page)

    log_in(page, "cv_sttt", "Lê Văn Cường")
    page.goto(f"/instances/{round_['instance_id']}")
    diagram = page.locator("#diagram")
    expect(diagram.locator('[data-element-id="Task_DanhGiaDocLap"].marker-active')).to_be_attached()
    expect(diagram.locator('[data-element-id="Task_TuDanhGia"].marker-active')).to_be_attached()  # so_yt's
    page.screenshot(path=artifact_path("dti-02-round-instance.png"), full_page=True)
