"""The Hòa Bình meeting procedures end to end through /api/v1 only, on a clock the test moves: the notice or
request, the invitations (the worker), the rehearsal and readiness targets tied to the meeting time, the
session's log of connection requests and the figures Văn phòng UBND tỉnh evaluates."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.engine.test_meeting_sessions import (
    CONNECTED,
    DISCONNECTED,
    EVALUATED,
    MEETING,
    NOTICE,
    RECEIVED,
    REHEARSED,
    SERVED,
    STAFF,
    UNITS,
    at,
)
from tests.web.conftest import add_people
from tests.web.test_api import ApiUser, assert_error, complete
from tests.web.test_sla_pages import use_clock

Api = Callable[[str], ApiUser]


@pytest.fixture
def api(app: Flask) -> Api:
    """Văn phòng UBND tỉnh, the district and the telecom operator; a fresh token per call, issued on the
    moved clock (a token lives 8 hours)."""
    add_people(app, STAFF, UNITS)
    client = app.test_client()
    return lambda username: ApiUser(client, username)


def mine(user: ApiUser, instance_id: int) -> list[str]:
    return sorted(t["element_id"] for t in user.get("/tasks").get_json() if t["instance_id"] == instance_id)


def test_planned_session_over_the_api(app: Flask, api: Api, run_worker: Any) -> None:
    clock = use_clock(app, at(26, 9))
    officer = api("cv_vp")
    started = officer.post("/process-instances", json={"process": "meeting_planned", "data": {}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    assert [t["element_id"] for t in started.get_json()["active_tasks"]] == ["Task_GuiVanBan"]

    notice = officer.get(f"/tasks/{officer.task_at(instance_id, 'Task_GuiVanBan')}").get_json()
    assert notice["form"]["id"] == "meeting_planned_notice"
    assert {"label": "UBND huyện Cao Lãnh", "value": "ubnd_caolanh"} in notice["data"]["ds_don_vi"]
    wrong = officer.post(f"/tasks/{notice['id']}/complete",
                         json={"data": {**NOTICE, "don_vi_moi": ["ubnd_caolanh", "ubnd_khong_co"]}})
    assert [d["path"] for d in assert_error(wrong, 400, "invalid_data")["details"]] == ["don_vi_moi"]
    complete(officer, instance_id, "Task_GuiVanBan", NOTICE)
    assert run_worker() == 1  # the invitations

    complete(api("cv_huyen"), instance_id, "Task_TiepNhan", RECEIVED)
    clock.now = at(27, 10, 30)
    complete(api("kt_vnpt"), instance_id, "Task_KiemTraNoiBo", REHEARSED)
    clock.now = at(27, 12)
    assert run_worker() == 0  # rehearsed in time: no warning at 12:00

    clock.now = at(27, 13, 30)  # the endpoints are not ready 30 minutes before: the leader is warned
    assert run_worker() == 1
    leader = api("ld_vp")
    assert mine(leader, instance_id) == ["Task_ChiDaoSanSang"]
    assert mine(api("ld_vp2"), instance_id) == []  # the leader chosen on the notice, not the other one
    complete(leader, instance_id, "Task_ChiDaoSanSang", {"y_kien_chi_dao_sansang": "Kết nối ngay xã Mỹ Hội."})
    clock.now = at(27, 13, 40)
    complete(api("kt_huyen"), instance_id, "Task_KetNoiDayDu", CONNECTED)

    operator = api("kt_vnpt")
    assert mine(operator, instance_id) == []
    clock.now = at(27, 14)
    run_worker()
    operator = api("kt_vnpt")
    serve = operator.task_at(instance_id, "Task_PhucVuPhienHop")
    backwards = {**SERVED, "yeu_cau_ket_noi": [{**SERVED["yeu_cau_ket_noi"][1], "ket_noi_luc": "14:20:00"}]}
    error = assert_error(operator.post(f"/tasks/{serve}/complete", json={"data": backwards}), 400, "invalid_data")
    assert [(d["path"], d["message"]["vi"]) for d in error["details"]] == [
        ("yeu_cau_ket_noi.0.ket_noi_luc", "Không được sớm hơn “Giờ yêu cầu”.")]
    clock.now = at(27, 17)
    complete(api("kt_vnpt"), instance_id, "Task_PhucVuPhienHop", SERVED)

    officer = api("cv_vp")
    evaluation = officer.get(f"/tasks/{officer.task_at(instance_id, 'Task_DanhGiaChatLuong')}").get_json()
    assert evaluation["form"]["id"] == "meeting_session_evaluate"
    data = evaluation["data"]
    assert (data["so_yeu_cau_ket_noi"], data["thoi_gian_ket_noi_tb"], data["thoi_gian_ket_noi_lau_nhat"],
            data["so_ket_noi_qua_30_giay"], data["so_su_co"]) == (3, 25.7, 45, 1, 2)
    assert data["tong_duyet_ket_qua"].endswith("đạt mốc tối thiểu 2 giờ trước giờ họp")
    assert data["san_sang_ket_qua"] == ("Sẵn sàng lúc 13:40 ngày 27/11/2026 – không đạt mốc sẵn sàng trước giờ họp "
                                        "30 phút")
    complete(officer, instance_id, "Task_DanhGiaChatLuong", EVALUATED)
    final = complete(api("kt_vnpt"), instance_id, "Task_NgatKetNoi", DISCONNECTED)
    assert final["status"] == "completed" and final["active_tasks"] == []


def test_unscheduled_session_called_an_hour_ahead_over_the_api(app: Flask, api: Api, run_worker: Any) -> None:
    clock = use_clock(app, at(27, 13))  # 13:00 for 14:00: the 2-hour target cannot apply, 30 minutes can
    officer = api("cv_vp")
    instance_id = officer.post("/process-instances", json={"process": "meeting_unscheduled", "data": {}}
                               ).get_json()["id"]
    request = officer.get(f"/tasks/{officer.task_at(instance_id, 'Task_GuiYeuCau')}").get_json()
    assert request["form"]["id"] == "meeting_unscheduled_request"
    letter = officer.post(f"/tasks/{request['id']}/complete",
                          json={"data": {**MEETING, "hinh_thuc_yeu_cau": "van_ban"}})
    assert [(d["path"], d["message"]["vi"]) for d in assert_error(letter, 400, "invalid_data")["details"]] == [
        ("so_van_ban_yeu_cau", "Trường này là bắt buộc.")]
    complete(officer, instance_id, "Task_GuiYeuCau", {**MEETING, "hinh_thuc_yeu_cau": "email"})
    assert run_worker() == 1

    district = api("cv_huyen")
    receive = district.get(f"/tasks/{district.task_at(instance_id, 'Task_TiepNhan')}").get_json()
    assert receive["form"]["id"] == "meeting_unscheduled_receive"
    assert receive["due_at"] is not None and receive["data"]["hinh_thuc_yeu_cau_ten"] == "thư điện tử"
    assert "không áp dụng" in receive["data"]["moc_2_gio_hien_thi"]
    complete(district, instance_id, "Task_TiepNhan", RECEIVED)
    assert run_worker() == 0  # the past 2-hour timer ends as "not applicable": no notice
    clock.now = at(27, 13, 15)
    complete(api("kt_vnpt"), instance_id, "Task_KiemTraNoiBo", REHEARSED)
    clock.now = at(27, 13, 25)
    complete(api("kt_huyen"), instance_id, "Task_KetNoiDayDu", CONNECTED)
    clock.now = at(27, 13, 45)
    assert run_worker() == 0
    assert mine(api("kt_vnpt"), instance_id) == []  # the session waits for its time
    clock.now = at(27, 14)
    run_worker()
    complete(api("kt_vnpt"), instance_id, "Task_PhucVuPhienHop", SERVED)
    complete(api("cv_vp"), instance_id, "Task_DanhGiaChatLuong", EVALUATED)
    final = complete(api("kt_vnpt"), instance_id, "Task_NgatKetNoi", DISCONNECTED)
    assert final["status"] == "completed"
    assert mine(api("ld_vp"), instance_id) == []  # every target met or not applicable: nobody escalated to
