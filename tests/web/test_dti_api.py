"""A DTI round through /api/v1 only: import, open, three units' sheets, evidence (with its limits), an
adjustment with a reason and the unit's response, the round's steps through the tasks API, a tie in the
ranking, publication, and who may see what before and after."""
from __future__ import annotations

import dataclasses
import io
import json
import re
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from engine.persistence.models import DtiRound
from engine.services import identity
from tests.engine.attachment_files import pdf, png
from tests.engine.docx_files import docx_text
from tests.engine.dti_files import SMALL, STAFF, UNITS, header_row, workbook
from tests.web.conftest import PASSWORD, REQUEST_DATA, Browser
from tests.web.test_api import API, ApiUser, assert_error
from tests.web.test_attachments_pages import multipart
from webapp.platform import uow

OFFICER = {"so_tc": "cv_stc", "so_yt": "cv_syt", "so_xd": "cv_sxd"}
CONFIRM = {"xac_nhan_tu_danh_gia": True}


class DtiApi(ApiUser):
    def put(self, path: str, **kwargs: Any) -> Any:
        return self.client.put(API + path, headers=self.headers, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.client.patch(API + path, headers=self.headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(API + path, headers=self.headers, **kwargs)


@pytest.fixture
def api(app: Flask) -> Any:
    with app.app_context(), uow() as work:
        for code, name in UNITS.items():
            identity.ensure_unit(work, code, name)
        for username, (full_name, unit, roles) in STAFF.items():
            identity.create_user(work, username, full_name, PASSWORD, unit, roles)
        work.commit()
    client = app.test_client()
    users: dict[str, DtiApi] = {}
    return lambda username: users.setdefault(username, DtiApi(client, username))


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def import_small(api: Any) -> int:
    response = api("cv_sttt").post("/dti/index-sets", query_string={"name": "Bộ chỉ số thử", "year": 2026},
                                   **multipart(workbook(SMALL), "bo-chi-so.xlsx"))
    return int(ok(response, 201)["summary"]["id"])


def open_round(api: Any, set_id: int, units: list[str]) -> dict[str, Any]:
    body = {"index_set_id": set_id, "deadline": "2099-12-31",
            "participants": [{"unit": unit, "group": "so_nganh"} for unit in units]}
    return dict(ok(api("cv_sttt").post("/dti/rounds", json=body), 201))


def unit_path(round_id: int, unit: str) -> str:
    return f"/dti/rounds/{round_id}/units/{unit}"


def score(api: Any, round_id: int, unit: str, scores: dict[str, Any]) -> None:
    user = api(OFFICER[unit])
    for code, value in scores.items():
        ok(user.put(f"{unit_path(round_id, unit)}/scores/{code}", json={"score": value, "note": f"Căn cứ {code}"}))


def evidence(api: Any, round_id: int, unit: str, code: str, content: bytes, name: str) -> Any:
    return api(OFFICER[unit]).post(f"{unit_path(round_id, unit)}/scores/{code}/evidence", **multipart(content, name))


# ---------------------------------------------------------------- import


def test_index_import_reports_rows_and_only_managers_import(api: Any) -> None:
    rows = [list(row) for row in SMALL]
    rows[2][4] = "sáu"
    response = api("cv_sttt").post("/dti/index-sets", query_string={"name": "Lỗi", "year": 2026},
                                   **multipart(workbook(rows), "loi.xlsx"))
    error = assert_error(response, 400, "invalid_data")
    assert error["message"] == "Tệp bộ chỉ số có 1 lỗi; chưa nhập chỉ số nào. Hãy sửa tệp và tải lên lại."
    assert [(d["row"], d["column"], d["label"]) for d in error["details"]] == [
        (header_row() + 3, "E", "Điểm tối đa")]
    assert ok(api("cv_sttt").get("/dti/index-sets")) == []
    forbidden = api("cv_stc").post("/dti/index-sets", query_string={"name": "X", "year": 2026},
                                   **multipart(workbook(SMALL), "x.xlsx"))
    assert_error(forbidden, 403, "forbidden")
    set_id = import_small(api)
    shown = ok(api("cv_sttt").get(f"/dti/index-sets/{set_id}"))
    assert shown["summary"]["max_by_group"] == {"so_nganh": 15, "huyen": 15}
    assert [i["code"] for i in shown["indicators"]] == ["1", "1.1", "1.2", "2", "2.1", "2.2"]
    edited = ok(api("cv_sttt").patch(f"/dti/index-sets/{set_id}/indicators", json={"indicators": [
        {"code": "1.1", "max_points": 4.5, "method": "diem"}, {"code": "1", "max_points": "10,5"}]}))
    assert [(i["code"], i["max_points"]) for i in edited] == [("1.1", 4.5), ("1", 10.5)]
    broken = api("cv_sttt").patch(f"/dti/index-sets/{set_id}/indicators",
                                  json={"indicators": [{"code": "2.1", "max_points": 1}]})
    assert "tổng điểm các chỉ số con" in assert_error(broken, 400, "invalid_data")["details"][0]["message"]["vi"]


# ---------------------------------------------------------------- the round


def test_a_round_through_the_api(app: Flask, api: Any) -> None:
    set_id = import_small(api)
    opened = open_round(api, set_id, ["so_tc", "so_yt", "so_xd"])
    round_id = opened["id"]
    assert (opened["state"], [p["unit_code"] for p in opened["participants"]]) == (
        "dang_danh_gia", ["so_tc", "so_xd", "so_yt"])

    # A unit sees only its own sheet before publication.
    sheet = ok(api("cv_stc").get(f"{unit_path(round_id, 'so_tc')}/sheet"))
    assert (sheet["leaves"], sheet["max_total"], sheet["may_edit_self"]) == (3, 15, True)
    assert [g["name"] for g in sheet["groups"]] == ["Nhận thức số", "Hạ tầng số"]
    assert_error(api("cv_stc").get(f"{unit_path(round_id, 'so_yt')}/sheet"), 403, "forbidden")
    assert_error(api("cv_stc").put(f"{unit_path(round_id, 'so_yt')}/scores/1.1", json={"score": 4}), 403, "forbidden")
    assert [p["unit_code"] for p in ok(api("cv_stc").get(f"/dti/rounds/{round_id}"))["participants"]] == ["so_tc"]

    # Scores checked against the maximum and the method; submitting early is refused, also via the tasks API.
    bad = api("cv_stc").put(f"{unit_path(round_id, 'so_tc')}/scores/1.1", json={"score": 3})
    assert "chỉ nhận 0, 2, 4 điểm" in assert_error(bad, 400, "invalid_data")["message"]
    assert_error(api("cv_stc").put(f"{unit_path(round_id, 'so_tc')}/scores/2.2", json={"score": 1}),
                 400, "invalid_data")
    task_id = sheet["task_id"]
    early = api("cv_stc").post(f"/tasks/{task_id}/complete", json={"data": CONFIRM})
    assert assert_error(early, 400, "invalid_data")["message"] == (
        "Chưa nộp được báo cáo tự đánh giá: còn 3 chỉ số chưa chấm điểm (trên tổng số 3 chỉ số).")
    saved = ok(api("cv_stc").put(f"{unit_path(round_id, 'so_tc')}/scores/1.2", json={"score": "4,5", "note": "9 tin"}))
    assert (saved["line"]["self_score"], saved["self_total"]) == (4.5, 4.5)

    # Evidence: type and size limits with clear errors; list, download, remove.
    refused = evidence(api, round_id, "so_tc", "1.1", b"chi la van ban", "ke-hoach.pdf")
    assert assert_error(refused, 400, "invalid_data")["message"].startswith("Loại tệp không được hỗ trợ")
    assert "không khớp nội dung" in assert_error(evidence(api, round_id, "so_tc", "1.1", png(), "anh.pdf"),
                                                 400, "invalid_data")["message"]
    platform = app.extensions["platform"]
    limit = len(pdf()) - 1
    platform.settings = dataclasses.replace(platform.settings, max_attachment_bytes=limit)
    try:
        too_big = evidence(api, round_id, "so_tc", "1.1", pdf(), "ke-hoach.pdf")
    finally:
        platform.settings = dataclasses.replace(platform.settings, max_attachment_bytes=10 * 1024 * 1024)
    assert assert_error(too_big, 400, "invalid_data")["message"].startswith("Tệp quá lớn: tối đa")
    kept = ok(evidence(api, round_id, "so_tc", "1.1", pdf("Ke hoach"), "Kế hoạch CĐS.pdf"), 201)
    assert (kept["name"], kept["type"], kept["phase"]) == ("Kế hoạch CĐS.pdf", "application/pdf", "tu_danh_gia")
    extra = ok(evidence(api, round_id, "so_tc", "1.1", png(), "anh-chup.png"), 201)
    download = api("cv_stc").get(kept["content"].removeprefix(API))
    assert (download.status_code, download.mimetype, download.data) == (200, "application/pdf", pdf("Ke hoach"))
    assert_error(api("cv_syt").get(kept["content"].removeprefix(API)), 403, "forbidden")
    left = ok(api("cv_stc").delete(f"{unit_path(round_id, 'so_tc')}/evidence/{extra['id']}"))
    assert [e["name"] for e in left] == ["Kế hoạch CĐS.pdf"]
    assert ok(api("cv_sttt").get(f"{unit_path(round_id, 'so_tc')}/evidence", query_string={"indicator": "1.1"}))

    # Every unit scores and submits (so_xd through the tasks API: the same check ran above).
    score(api, round_id, "so_tc", {"1.1": 4, "1.2": 6, "2.1": 5})
    ok(api("cv_stc").post(f"{unit_path(round_id, 'so_tc')}/submit", json={"data": CONFIRM}))
    score(api, round_id, "so_yt", {"1.1": 0, "1.2": 6, "2.1": 5})
    ok(api("cv_syt").post(f"{unit_path(round_id, 'so_yt')}/submit", json={"data": CONFIRM}))
    score(api, round_id, "so_xd", {"1.1": 2, "1.2": 6, "2.1": 5})
    ok(evidence(api, round_id, "so_xd", "1.1", pdf("Ke hoach XD"), "ke-hoach.pdf"), 201)
    xd_task = ok(api("cv_sxd").get(f"{unit_path(round_id, 'so_xd')}/sheet"))["task_id"]
    ok(api("cv_sxd").post(f"/tasks/{xd_task}/complete", json={"data": CONFIRM}))
    assert_error(api("cv_stc").put(f"{unit_path(round_id, 'so_tc')}/scores/1.1", json={"score": 0}), 409, "conflict")

    # Independent evaluation: an adjustment needs a reason, then the unit responds once.
    expert = api("cv_sttt")
    no_reason = expert.put(f"{unit_path(round_id, 'so_tc')}/scores/1.2/expert", json={"score": 3})
    assert_error(no_reason, 400, "invalid_data")
    ok(expert.put(f"{unit_path(round_id, 'so_tc')}/scores/1.2/expert",
                  json={"score": 4, "reason": "Chỉ 8 tin bài đạt yêu cầu."}))
    assert ok(api("cv_stc").get(f"{unit_path(round_id, 'so_tc')}/sheet"))["lines"][2]["expert_score"] is None
    for unit in OFFICER:
        ok(expert.post(f"{unit_path(round_id, unit)}/submit", json={"data": {"nhan_xet_danh_gia": "Đạt."}}))
    seen = ok(api("cv_stc").get(f"{unit_path(round_id, 'so_tc')}/sheet"))
    line = next(row for row in seen["lines"] if row["code"] == "1.2")
    assert (seen["phase"], line["expert_score"], line["expert_reason"], line["adjusted"]) == (
        "phan_hoi", 4, "Chỉ 8 tin bài đạt yêu cầu.", True)
    ok(api("cv_stc").post(f"{unit_path(round_id, 'so_tc')}/scores/1.2/response", json={"text": "Có 9 tin bài."}))
    assert_error(api("cv_stc").post(f"{unit_path(round_id, 'so_tc')}/scores/1.2/response", json={"text": "Lần 2"}),
                 409, "conflict")
    ok(api("cv_stc").post(f"{unit_path(round_id, 'so_tc')}/submit", json={"data": {}}))
    ok(expert.post(f"{unit_path(round_id, 'so_tc')}/submit", json={"data": {"ket_luan_xem_xet": "Giữ 4 điểm."}}))
    history = ok(api("cv_stc").get(f"{unit_path(round_id, 'so_tc')}/scores/1.2/history"))
    assert [(h["kind"], h["actor"]) for h in history] == [
        ("tu_danh_gia", "Trần Thị Bình"), ("tu_danh_gia", "Trần Thị Bình"), ("chuyen_gia", "Lê Văn Cường"),
        ("phan_hoi", "Trần Thị Bình")]

    # Ranking: so_tc and so_xd tie at 13 (đồng hạng), so_yt is third; before publication only the Sở and UBND.
    assert_error(api("cv_stc").get(f"/dti/rounds/{round_id}/ranking"), 403, "forbidden")
    ranked = ok(api("ct_ubnd").get(f"/dti/rounds/{round_id}/ranking"))
    assert [(u["unit_code"], u["total"], u["rank"], u["tied"]) for u in ranked["groups"][0]["units"]] == [
        ("so_tc", 13, 1, True), ("so_xd", 13, 1, True), ("so_yt", 11, 3, False)]

    # The round's own steps through the tasks API: report, approval, publication.
    current = ok(api("ld_sttt").get(f"/dti/rounds/{round_id}"))
    assert (current["state"], current["task_element"]) == ("tong_hop", "Task_TongHop")
    ok(api("ld_sttt").post(f"/tasks/{current['task_id']}/complete",
                           json={"data": {"noi_dung_trinh": "Trình kết quả DTI năm 2026."}}))
    approve = ok(api("ct_ubnd").get(f"/dti/rounds/{round_id}"))["task_id"]
    ok(api("ct_ubnd").post(f"/tasks/{approve}/complete", json={"data": {"quyet_dinh_phe_duyet": "phe_duyet"}}))
    publish = ok(api("cv_sttt").get(f"/dti/rounds/{round_id}"))["task_id"]
    ok(api("cv_sttt").post(f"/tasks/{publish}/complete",
                           json={"data": {"so_quyet_dinh": "99/QĐ-UBND", "ngay_quyet_dinh": "2026-12-20"}}))
    done = ok(api("cv_stc").get(f"/dti/rounds/{round_id}"))
    assert (done["state"], done["decision_number"], done["decision_date"]) == ("da_cong_bo", "99/QĐ-UBND", "2026-12-20")

    # Published: the ranking and the sheets are public; the evidence stays with the unit and the Sở.
    assert ok(api("cv_syt").get(f"/dti/rounds/{round_id}/ranking"))["groups"][0]["units"][0]["unit_code"] == "so_tc"
    assert ok(api("cv_syt").get(f"{unit_path(round_id, 'so_tc')}/sheet"))["final_total"] == 13
    assert_error(api("cv_syt").get(f"{unit_path(round_id, 'so_tc')}/evidence"), 403, "forbidden")
    report = api("cv_stc").get(f"{unit_path(round_id, 'so_tc')}/report.docx")
    assert report.status_code == 200 and report.mimetype.endswith("wordprocessingml.document")
    assert "Xếp hạng: thứ 1/3 trong nhóm Sở, ban, ngành tỉnh (đồng hạng)." in docx_text(report.data)
    book = api("cv_syt").get(f"/dti/rounds/{round_id}/ranking.xlsx")
    assert book.status_code == 200 and "xep-hang-dti-2026.xlsx" in book.headers["Content-Disposition"]
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(io.BytesIO(book.data)).active.iter_rows()]
    first = next(i for i, row in enumerate(rows) if row[0] == "Nhóm xếp hạng") + 2  # a two-row header
    assert [row[:5] for row in rows[first:first + 3]] == [
        ["Sở, ban, ngành tỉnh", 1, "Sở Tài chính", 13, 15], ["Sở, ban, ngành tỉnh", 1, "Sở Xây dựng", 13, 15],
        ["Sở, ban, ngành tỉnh", 3, "Sở Y tế", 11, 15]]


def test_a_unit_sees_only_its_own_tasks_of_the_round(app: Flask, api: Any) -> None:
    """One instance holds every unit's tasks (visibility = own_tasks): before publication a unit opens
    neither another unit's task nor anything of the round beyond its own tasks; the Sở sees it all."""
    round_id = open_round(api, import_small(api), ["so_tc", "so_yt"])["id"]
    with app.app_context(), uow() as work:
        instance_id = work.session.scalar(select(DtiRound.instance_id).where(DtiRound.id == round_id))
    score(api, round_id, "so_tc", {"1.1": 0, "1.2": 6, "2.1": 5})
    tc_self = ok(api("cv_stc").get(f"{unit_path(round_id, 'so_tc')}/sheet"))["task_id"]
    ok(api("cv_stc").post(f"{unit_path(round_id, 'so_tc')}/submit",
                          json={"data": {**CONFIRM, "bao_cao_tu_danh_gia": "Tóm tắt riêng của Sở Tài chính"}}))
    expert = api("cv_sttt")
    ok(expert.put(f"{unit_path(round_id, 'so_tc')}/scores/1.2/expert", json={"score": 4, "reason": "Thiếu tin bài."}))
    ok(expert.post(f"{unit_path(round_id, 'so_tc')}/submit", json={"data": {"nhan_xet_danh_gia": "Nhận xét riêng TC"}}))
    tc_response = api("cv_stc").task_at(instance_id, "Task_PhanHoi")
    yt_self = ok(api("cv_syt").get(f"{unit_path(round_id, 'so_yt')}/sheet"))["task_id"]
    secrets = ("Tóm tắt riêng của Sở Tài chính", "Nhận xét riêng TC", "so_dieu_chinh", "Trần Thị Bình")

    other = api("cv_syt")
    for task_id in (tc_self, tc_response):
        assert_error(other.get(f"/tasks/{task_id}"), 403, "forbidden")
    shown = ok(other.get(f"/process-instances/{instance_id}"))
    assert [t["id"] for t in shown["active_tasks"]] == [yt_self]
    own = ok(other.get(f"/tasks/{yt_self}"))
    assert own["data"]["don_vi"] == "so_yt"
    for answer in (shown, own):
        assert not any(secret in str(answer) for secret in secrets), answer
    assert not any(key.startswith("so_tc") or key == "dti_don_vi" for key in own["data"])

    page = Browser(app.test_client())
    assert page.login("cv_syt").status_code == 302
    assert page.client.get(f"/tasks/{tc_response}").status_code == 403
    html = page.client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert f"/tasks/{yt_self}" in html and f"/tasks/{tc_self}" not in html and f"/tasks/{tc_response}" not in html
    assert not [secret for secret in secrets if secret in html and secret != "so_dieu_chinh"]  # (a BPMN condition)
    diagram = re.search(r'id="diagram-data">(.*?)</script>', html)
    assert diagram and json.loads(diagram.group(1))["active"] == ["Task_TuDanhGia"]  # not so_tc's Task_PhanHoi

    # so_tc's branch ends; so_yt's later task still opens with nothing of so_tc's.
    ok(api("cv_stc").post(f"/tasks/{tc_response}/complete", json={"data": {"y_kien_chung": "Đồng ý riêng TC"}}))
    score(api, round_id, "so_yt", {"1.1": 0, "1.2": 6, "2.1": 5})
    ok(other.post(f"{unit_path(round_id, 'so_yt')}/submit", json={"data": CONFIRM}))
    ok(expert.put(f"{unit_path(round_id, 'so_yt')}/scores/1.2/expert", json={"score": 5, "reason": "Thiếu một tin."}))
    ok(expert.post(f"{unit_path(round_id, 'so_yt')}/submit", json={"data": {"nhan_xet_danh_gia": "Nhận xét YT"}}))
    yt_response = other.task_at(instance_id, "Task_PhanHoi")
    later = ok(other.get(f"/tasks/{yt_response}"))
    assert later["data"]["don_vi"] == "so_yt" and later["data"]["so_dieu_chinh"] == 1
    assert not [s for s in (*secrets[:2], "Đồng ý riêng TC", "Trần Thị Bình") if s in str(later)], later["data"]

    # The evaluator (the round's initiator unit) still sees every unit's tasks and the whole history.
    assert ok(expert.get(f"/tasks/{tc_self}"))["id"] == tc_self
    whole = ok(expert.get(f"/process-instances/{instance_id}"))
    assert yt_response in {t["id"] for t in whole["active_tasks"]}
    assert "Tóm tắt riêng của Sở Tài chính" in str(whole) or "Trần Thị Bình" in str(whole)


def test_an_ordinary_procedure_still_shows_the_whole_instance_to_a_candidate(api: Any) -> None:
    """email_account has no `visibility` property: the Sở's expert, a candidate of a later task (not of
    the initiator's unit), sees the instance whole, the requesting unit's task and its history."""
    stc, expert = api("cv_stc"), api("cv_sttt")
    instance_id = ok(stc.post("/process-instances", json={"process": "email_account", "data": {}}), 201)["id"]
    request_task = stc.task_at(instance_id, "Task_LapDeNghi")
    ok(stc.post(f"/tasks/{request_task}/complete", json={"data": REQUEST_DATA}))
    shown = ok(expert.get(f"/process-instances/{instance_id}"))
    assert [t["element_id"] for t in shown["active_tasks"]] == ["Task_XuLyDangKy"]
    assert "Trần Thị Bình" in {entry["actor"] for entry in shown["history"]}
    assert ok(expert.get(f"/tasks/{request_task}"))["element_id"] == "Task_LapDeNghi"
