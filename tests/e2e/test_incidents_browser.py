"""The administrator's incidents page in Chromium: see the stopped instance, retry it, watch it move on."""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import artifact_path
from tests.e2e.test_email_account_browser import log_in
from tests.web.test_incidents_pages import RefusesFirst, stopped  # noqa: F401 - a fixture

pytestmark = pytest.mark.e2e


def test_admin_retries_an_incident_and_the_instance_moves_on(
        page: Page, run_worker: Callable[[], int],
        stopped: tuple[int, RefusesFirst]) -> None:  # noqa: F811 - the imported fixture
    instance_id, refusing = stopped
    log_in(page, "qt", "Đặng Thanh Tâm")

    menu = page.locator("a.nav-incidents")
    expect(menu).to_have_text("Sự cố 1")  # the menu entry counts the open incidents
    menu.click()
    expect(page.get_by_role("heading", name="Sự cố", exact=True)).to_be_visible()
    expect(page.locator("#open-count")).to_have_text("1 đang mở")
    row = page.locator(".open-incidents .incident-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Hồ sơ số {instance_id}")
    expect(row).to_contain_text("Thực hiện trên hệ thống thư điện tử")
    expect(row).to_contain_text("Đơn vị chưa có trong danh bạ")
    expect(row.locator("td.num")).to_have_text("1")
    page.screenshot(path=str(artifact_path("incidents-01-open.png")), full_page=True)

    # the instance page shows the same incident, with the button for administrators
    row.get_by_role("link", name=f"Hồ sơ số {instance_id}").click()
    expect(page).to_have_url(re.compile(rf"/instances/{instance_id}$"))
    alert = page.locator(".incident-alert")
    expect(alert).to_contain_text("HTTP 400")
    expect(alert.get_by_role("button", name="Thử lại")).to_be_visible()
    expect(page.locator("#instance-status")).to_contain_text("Có sự cố")
    page.screenshot(path=str(artifact_path("incidents-02-instance-in-error.png")), full_page=True)

    page.locator("a.nav-incidents").click()
    page.locator(".open-incidents .incident-row").get_by_role("button", name="Thử lại").click()
    expect(page.get_by_role("alert").filter(has_text=f"Đã thử lại sự cố của hồ sơ số {instance_id}")).to_be_visible()
    expect(page.locator("#no-open-incidents")).to_have_text("Không có sự cố nào đang mở.")
    expect(page.locator("a.nav-incidents")).to_have_text("Sự cố")
    resolved = page.locator(".resolved-incidents .resolved-row")
    expect(resolved).to_have_count(1)
    expect(resolved).to_contain_text("Đặng Thanh Tâm")
    page.screenshot(path=str(artifact_path("incidents-03-retried.png")), full_page=True)

    assert run_worker() == 2  # the worker, as its own process would: both rows this time
    assert refusing.keys[0] == refusing.keys[1]  # the refused row was sent again with its key
    resolved.get_by_role("link", name=f"Hồ sơ số {instance_id}").click()
    expect(page.locator("#instance-status")).to_contain_text("Đang xử lý")
    expect(page.locator(".incident-alert")).to_have_count(0)
    expect(page.locator("table.steps")).to_contain_text("Phúc đáp công văn")
    history = page.locator("table.history")
    expect(history).to_contain_text("Thử lại sự cố")
    expect(history).to_contain_text("Thực hiện trên hệ thống thư điện tử — dòng 1: Đã cấp mới")
    page.screenshot(path=str(artifact_path("incidents-04-moved-on.png")), full_page=True)
