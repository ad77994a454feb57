"""The deadline (SLA) report and the deadline badges, through the test client, under a moved clock."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from engine.persistence.models import HumanTask, User
from engine.persistence.uow import UnitOfWork
from engine.services import identity, instances
from tests.engine.conftest import Clock
from tests.web.conftest import PASSWORD, PROCESS_DATA, REPLY_DATA, REQUEST_DATA, Browser
from webapp.platform import services, uow

VN = ZoneInfo("Asia/Ho_Chi_Minh")
#: Thursday 26 Nov 2026, 09:00: the email_account deadline (4 working days) is Wednesday 2 Dec, 17:00.
RECEIVED = datetime(2026, 11, 26, 9, 0, tzinfo=VN)
#: Thursday 3 Dec 2026, 10:00: the dossiers received on 26 Nov are overdue.
LATER = datetime(2026, 12, 3, 10, 0, tzinfo=VN)
LEADER = ("ld_sttt", "Nguyễn Quốc Hùng")


# ---------------------------------------------------------------- scenario (shared with the browser test)


def use_clock(app: Flask, when: datetime) -> Clock:
    """The app's services on a clock the test moves (the runtime's now() follows it too)."""
    clock = Clock(when)
    app.extensions["platform"] = dataclasses.replace(app.extensions["platform"], clock=clock)
    return clock


def as_user(app: Flask, username: str, action: Callable[[UnitOfWork, User], Any]) -> Any:
    with app.app_context(), uow() as work:
        actor = work.session.scalar(select(User).where(User.username == username))
        return action(work, actor)


def start(app: Flask, username: str) -> int:
    return as_user(app, username, lambda w, a: instances.start(w, services(), a, "email_account").id)


def do_task(app: Flask, username: str, instance_id: int, data: dict[str, Any]) -> None:
    def run(work: UnitOfWork, actor: User) -> None:
        task_id = work.session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "ready"))
        instances.complete_task(work, services(), actor, task_id, data)
    as_user(app, username, run)


def add_leader(app: Flask) -> None:
    with app.app_context(), uow() as work:
        identity.create_user(work, LEADER[0], LEADER[1], PASSWORD, "sttt", ["lanh_dao"])
        work.commit()


@dataclasses.dataclass
class Scenario:
    clock: Clock
    overdue_stc: int    # Sở Tài chính, received 26 Nov, at "Xử lý nội dung đăng ký" (its task overdue too)
    overdue_syt: int    # Sở Y tế, received 26 Nov, still drafting (no task deadline)
    finished_stc: int   # Sở Tài chính, received and answered on 26 Nov: trước hạn
    fresh_stc: int      # Sở Tài chính, received 3 Dec, at "Xử lý nội dung đăng ký": đúng hạn


def build_scenario(app: Flask, run_worker: Callable[[], int]) -> Scenario:
    add_leader(app)
    clock = use_clock(app, RECEIVED)
    overdue_stc, overdue_syt, finished_stc = start(app, "cv_stc"), start(app, "cv_syt"), start(app, "cv_stc")
    do_task(app, "cv_stc", overdue_stc, REQUEST_DATA)
    do_task(app, "cv_stc", finished_stc, REQUEST_DATA)
    do_task(app, "cv_sttt", finished_stc, PROCESS_DATA)
    while run_worker():
        pass
    do_task(app, "cv_sttt", finished_stc, REPLY_DATA)
    assert run_worker() == 1  # the reply letter is numbered and issued
    clock.now = LATER
    fresh_stc = start(app, "cv_stc")
    do_task(app, "cv_stc", fresh_stc, REQUEST_DATA)
    return Scenario(clock, overdue_stc, overdue_syt, finished_stc, fresh_stc)


@pytest.fixture
def scenario(app: Flask, run_worker: Callable[[], int]) -> Scenario:
    return build_scenario(app, run_worker)


# ---------------------------------------------------------------- helpers


def count(page: str, table: str, key: str, value: str) -> int:
    match = re.search(rf'<table[^>]*{table}.*?data-{key}="{value}">.*?<td class="num">(\d+)</td>', page, re.S)
    assert match, (table, value)
    return int(match.group(1))


def overdue_rows(page: str) -> list[str]:
    table = re.search(r'<table[^>]*sla-overdue.*?<tbody>(.*?)</tbody>', page, re.S)
    return re.findall(r"<tr>.*?</tr>", table.group(1), re.S) if table else []


# ---------------------------------------------------------------- tests


def test_report_counts_and_overdue_items_by_unit(app: Flask, browser: Browser, scenario: Scenario) -> None:
    browser.login(LEADER[0])
    page = browser.client.get("/reports/sla?process=email_account&unit=so_tc").get_data(as_text=True)
    assert count(page, "sla-running", "state", "qua_han") == 1
    assert count(page, "sla-running", "state", "dung_han") == 1
    assert count(page, "sla-running", "state", "sap_den_han") == 0
    assert count(page, "sla-finished", "outcome", "truoc_han") == 1
    assert count(page, "sla-finished", "outcome", "qua_han") == 0
    rows = overdue_rows(page)
    # The dossier's own deadline (Wed 2 Dec 17:00) and its task's (Tue 1 Dec 17:00), most overdue first.
    assert len(rows) == 2
    assert "Xử lý nội dung đăng ký" in rows[0] and "01/12/2026 17:00" in rows[0]
    assert "Toàn hồ sơ" in rows[1] and "02/12/2026 17:00" in rows[1]
    assert all(f"/instances/{scenario.overdue_stc}" in r and "Quá hạn" in r for r in rows)
    # Working hours late: the task 7.5 (Wednesday) + 2.5 (Thursday 07:30–10:00), the dossier 2.5.
    assert '<td class="num">10</td>' in rows[0] and '<td class="num">2,5</td>' in rows[1]

    # The Sở Y tế dossier is still being drafted there: nothing of it is for Sở TT&TT yet.
    other = browser.client.get("/reports/sla?process=email_account&unit=so_yt").get_data(as_text=True)
    assert count(other, "sla-running", "state", "qua_han") == 0
    assert overdue_rows(other) == []
    # Every link on the report opens for the leader.
    for path in set(re.findall(r'href="(/(?:instances|tasks)/\d+)"', page)):
        assert browser.client.get(path).status_code == 200, path


def test_leaders_see_what_their_unit_oversees_and_administrators_everything(
        app: Flask, browser: Browser, scenario: Scenario) -> None:
    with app.app_context(), uow() as work:
        identity.create_user(work, "ld_syt", "Trương Văn Tín", PASSWORD, "so_yt", ["lanh_dao"])
        work.commit()
    browser.login("ld_syt")
    own = browser.client.get("/reports/sla?process=email_account").get_data(as_text=True)  # all units
    assert count(own, "sla-running", "state", "qua_han") == 1
    assert [f"/instances/{scenario.overdue_syt}" in r for r in overdue_rows(own)] == [True]
    assert browser.client.get(f"/instances/{scenario.overdue_syt}").status_code == 200
    assert browser.client.get(f"/instances/{scenario.overdue_stc}").status_code == 403
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("qt")
    everyone = browser.client.get("/reports/sla?process=email_account").get_data(as_text=True)
    assert count(everyone, "sla-running", "state", "qua_han") == 2
    assert count(everyone, "sla-running", "state", "dung_han") == 1
    assert len(overdue_rows(everyone)) == 3


def test_report_period_filters_by_day_received(browser: Browser, scenario: Scenario) -> None:
    browser.login(LEADER[0])
    page = browser.client.get("/reports/sla?process=email_account&from=2026-12-03&to=2026-12-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert count(html, "sla-running", "state", "dung_han") == 1
    assert count(html, "sla-running", "state", "qua_han") == 0
    assert count(html, "sla-finished", "outcome", "truoc_han") == 0
    assert "Không có hồ sơ hay công việc nào quá hạn." in html
    received = browser.client.get("/reports/sla?process=email_account&from=2026-11-26&to=2026-11-26")
    received = received.get_data(as_text=True)
    assert count(received, "sla-running", "state", "qua_han") == 1
    assert count(received, "sla-finished", "outcome", "truoc_han") == 1


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-13-01", "Từ ngày “2026-13-01” không phải ngày hợp lệ"),
    ("to=hom-qua", "Đến ngày “hom-qua” không phải ngày hợp lệ"),
    ("to=9999-12-31", "Đến ngày phải trong các năm 2000–2099."),
    ("from=0001-01-01", "Từ ngày phải trong các năm 2000–2099."),
    ("from=2026-12-31&to=2026-01-01", "“Từ ngày” phải trước hoặc bằng “Đến ngày”."),
    ("unit=khong_co", "Không có đơn vị “khong_co”."),
    ("process=khong_co", "Không có quy trình “khong_co”."),
])
def test_bad_filters_are_a_400_with_a_message(app: Flask, browser: Browser, query: str, message: str) -> None:
    add_leader(app)
    browser.login(LEADER[0])
    response = browser.client.get(f"/reports/sla?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="sla-process"' in html  # the form stays, to correct the filter


def test_report_is_for_leaders_and_administrators(app: Flask, browser: Browser) -> None:
    browser.login("cv_stc")
    assert "Báo cáo hạn xử lý" not in browser.client.get("/").get_data(as_text=True)
    assert browser.client.get("/reports/sla").status_code == 403
    assert browser.client.get("/reports/sla?from=nonsense").status_code == 403
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("qt")
    assert "Báo cáo hạn xử lý" in browser.client.get("/").get_data(as_text=True)
    assert browser.client.get("/reports/sla").status_code == 200


def test_case_list_shows_deadlines_states_and_outcomes(browser: Browser, scenario: Scenario) -> None:
    browser.login("cv_stc")
    page = browser.client.get("/instances").get_data(as_text=True)
    assert "<th>Hạn xử lý</th>" in page

    def row(instance_id: int) -> str:
        match = re.search(rf'<tr><td><a href="/instances/{instance_id}">.*?</tr>', page, re.S)
        assert match, instance_id
        return match.group(0)

    overdue = row(scenario.overdue_stc)
    assert "02/12/2026 17:00" in overdue and "due-qua_han" in overdue and "Quá hạn" in overdue
    fresh = row(scenario.fresh_stc)
    assert "due-dung_han" in fresh and "Đúng hạn" in fresh
    finished = row(scenario.finished_stc)
    assert "outcome-truoc_han" in finished and "Xong trước hạn" in finished
    assert not re.search(r"due-(dung_han|sap_den_han|qua_han)", finished)  # no running state once finished
    english = browser.client.get("/instances?lang=en").get_data(as_text=True)
    assert "<th>Due</th>" in english and "Finished early" in english and "Overdue" in english


def test_english_report(browser: Browser, scenario: Scenario) -> None:
    browser.login(LEADER[0])
    html = browser.client.get("/reports/sla?process=email_account&unit=so_tc&lang=en").get_data(as_text=True)
    assert "Deadline report" in html and "Overdue" in html and "Finished early" in html
    assert '<td class="num">2.5</td>' in html


def test_tasklist_and_instance_page_show_due_badges(app: Flask, browser: Browser, scenario: Scenario) -> None:
    browser.login("cv_sttt")
    tasklist = browser.client.get("/").get_data(as_text=True)
    assert re.search(r'class="due-badge due-qua_han">.*?Quá hạn</span>', tasklist)
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("cv_stc")
    page = browser.client.get(f"/instances/{scenario.overdue_stc}").get_data(as_text=True)
    deadline = re.search(r'<p class="instance-deadline">.*?</p>', page, re.S)
    assert deadline and "02/12/2026 17:00" in deadline.group(0) and "due-qua_han" in deadline.group(0)
    fresh = browser.client.get(f"/instances/{scenario.fresh_stc}").get_data(as_text=True)
    assert "due-dung_han" in fresh and "Đúng hạn" in fresh
    finished = browser.client.get(f"/instances/{scenario.finished_stc}").get_data(as_text=True)
    assert "outcome-truoc_han" in finished and "Xong trước hạn" in finished
