"""The project-software adapter against a local HTTP peer that checks the contract
(docs/adapters.md): each action, retries, refusals, timeouts, idempotency, and through the worker."""
from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

from engine import worker
from engine.adapters.base import AdapterError, AdapterRefused, AdapterRegistry
from engine.adapters.project_software import NOT_CONFIGURED, HttpProjectSoftware
from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus
from engine.persistence.models import Incident, ProcessInstance, ServiceCall
from engine.persistence.uow import UnitOfWork
from engine.services import instances
from engine.services.context import Services
from engine.settings import Settings
from tests.engine.project_software_server import ProjectSoftwarePeer

TOPIC = "project_software.apply"
KEY = "41:7f3c9a"
AN = {"stt": 1, "email": "nvan.skhdt@dongthap.gov.vn", "ho_ten": "Nguyễn Văn An", "dien_thoai": "0277 3851 234",
      "chuc_vu": "Chuyên viên", "phong_ban": "Phòng Kế hoạch – Tổng hợp", "thao_tac": "cap_moi"}


@pytest.fixture
def pauses() -> list[float]:
    """The pauses the adapter took between tries (recorded instead of slept)."""
    return []


@pytest.fixture
def adapter(peer: ProjectSoftwarePeer, pauses: list[float]) -> HttpProjectSoftware:
    return HttpProjectSoftware(peer.url, peer.token, timeout=5, max_retries=2, backoff=0.5, sleep=pauses.append)


def row(**changes: Any) -> dict[str, Any]:
    return {"row": {**AN, **changes}}


def with_user(peer: ProjectSoftwarePeer, adapter: HttpProjectSoftware) -> None:
    adapter.apply("1:tao", row())
    peer.requests.clear()


# ---------------------------------------------------------------- each action


def test_cap_moi_creates_the_user_with_vietnamese_text_intact(adapter, peer) -> None:  # type: ignore[no-untyped-def]
    result = adapter.apply(KEY, row())["row"]
    assert (result["trang_thai"], result["ket_qua"], result["thao_tac_ten"]) == (
        "thanh_cong", "Đã cấp mới tài khoản", "Cấp mới")
    assert result["stt"] == 1 and result["ma_nguoi_dung"] == 1
    assert peer.users["nvan.skhdt@dongthap.gov.vn"] == {
        "id": 1, "email": "nvan.skhdt@dongthap.gov.vn", "full_name": "Nguyễn Văn An", "phone": "0277 3851 234",
        "title": "Chuyên viên", "department": "Phòng Kế hoạch – Tổng hợp"}
    ((method, path, key),) = [(s.method, s.path, s.key) for s in peer.requests]
    assert (method, path, key) == ("POST", "/api/users", KEY)


def test_cap_nhat_sends_only_the_filled_in_columns(adapter, peer) -> None:  # type: ignore[no-untyped-def]
    with_user(peer, adapter)
    result = adapter.apply(KEY, row(thao_tac="cap_nhat", ho_ten="", dien_thoai="", chuc_vu="Phó Trưởng phòng"))
    assert (result["row"]["trang_thai"], result["row"]["ket_qua"]) == ("thanh_cong", "Đã cập nhật thông tin tài khoản")
    ((seen),) = peer.requests
    assert (seen.method, seen.path, seen.key) == ("PATCH", "/api/users/nvan.skhdt@dongthap.gov.vn", KEY)
    assert seen.body == {"title": "Phó Trưởng phòng", "department": "Phòng Kế hoạch – Tổng hợp"}
    user = peer.users["nvan.skhdt@dongthap.gov.vn"]
    assert (user["full_name"], user["title"]) == ("Nguyễn Văn An", "Phó Trưởng phòng")


def test_xoa_deletes_the_user(adapter, peer) -> None:  # type: ignore[no-untyped-def]
    with_user(peer, adapter)
    result = adapter.apply(KEY, row(thao_tac="xoa"))["row"]
    assert (result["trang_thai"], result["ket_qua"], result["thao_tac_ten"]) == (
        "thanh_cong", "Đã xóa tài khoản", "Xóa")
    assert peer.users == {}
    ((seen),) = peer.requests
    assert (seen.method, seen.key, seen.body) == ("DELETE", KEY, None)


def test_doi_mat_khau_keeps_the_new_password_out_of_result_and_logs(adapter, peer, pauses,  # type: ignore[no-untyped-def]
                                                                   caplog) -> None:
    with_user(peer, adapter)
    handed: list[tuple[str, str, str]] = []
    resetting = HttpProjectSoftware(peer.url, peer.token, timeout=5, sleep=pauses.append,
                                    password_sink=lambda *given: handed.append(given))
    peer.fail_next(1)  # a retried reset, to see what the log gets
    with caplog.at_level(logging.DEBUG):
        result = resetting.apply(KEY, row(thao_tac="doi_mat_khau"))
    password = peer.users["nvan.skhdt@dongthap.gov.vn"]["password"]
    assert result["row"]["mat_khau_moi"] is True
    assert result["row"]["ket_qua"] == "Đã đặt lại mật khẩu (mật khẩu mới gửi riêng cho người dùng)"
    assert password not in json.dumps(result, ensure_ascii=False)
    assert password not in caplog.text and peer.token not in caplog.text
    assert handed == [(KEY, "nvan.skhdt@dongthap.gov.vn", password)]  # the delivery hook got it
    assert [s.path for s in peer.requests] == ["/api/users/nvan.skhdt@dongthap.gov.vn/reset-password"] * 2


def test_rows_that_cannot_be_sent_fail_without_a_request(adapter, peer) -> None:  # type: ignore[no-untyped-def]
    unknown = adapter.apply(KEY, row(thao_tac="khoa"))["row"]
    no_email = adapter.apply(KEY, row(email=""))["row"]
    nothing_to_change = adapter.apply(KEY, row(thao_tac="cap_nhat", ho_ten="", dien_thoai="", chuc_vu="",
                                                phong_ban=""))["row"]
    assert [r["trang_thai"] for r in (unknown, no_email, nothing_to_change)] == ["that_bai"] * 3
    assert unknown["ket_qua"] == "Không thực hiện: thao tác không hợp lệ (khoa)"
    assert no_email["ket_qua"] == "Không thực hiện: thiếu địa chỉ thư điện tử Đồng Tháp"
    assert nothing_to_change["ket_qua"] == "Không thực hiện: không có thông tin cần cập nhật"
    assert peer.requests == []


# ---------------------------------------------------------------- idempotency and retries


def test_same_key_twice_creates_one_user(adapter, peer) -> None:  # type: ignore[no-untyped-def]
    first = adapter.apply(KEY, row())
    again = adapter.apply(KEY, row())
    assert first == again
    assert len(peer.users) == 1 and peer.effects == 1 and peer.replays == 1
    assert peer.keys() == [KEY, KEY]


def test_500_then_200_creates_exactly_one_user(adapter, peer, pauses) -> None:  # type: ignore[no-untyped-def]
    peer.fail_next(1, 500)
    assert adapter.apply(KEY, row())["row"]["trang_thai"] == "thanh_cong"
    assert list(peer.users) == ["nvan.skhdt@dongthap.gov.vn"] and peer.effects == 1
    assert peer.keys() == [KEY, KEY]
    assert pauses == [0.5]


def test_5xx_every_time_gives_up_after_bounded_tries(adapter, peer, pauses) -> None:  # type: ignore[no-untyped-def]
    peer.fail_next(5, 503, {"error": "Đang bảo trì"})
    with pytest.raises(AdapterError) as raised:
        adapter.apply(KEY, row())
    assert not isinstance(raised.value, AdapterRefused)  # the worker's retries take over
    assert "sau 3 lần thử" in str(raised.value) and "HTTP 503" in str(raised.value)
    assert "Đang bảo trì" in str(raised.value)
    assert peer.keys() == [KEY] * 3 and peer.users == {}
    assert pauses == [0.5, 1.0]


def test_closed_port_is_a_network_error_after_bounded_tries(pauses) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = HttpProjectSoftware(f"http://127.0.0.1:{port}", "bi-mat", timeout=2, sleep=pauses.append)
    with pytest.raises(AdapterError, match="lỗi kết nối") as raised:
        adapter.apply(KEY, row())
    assert "sau 3 lần thử" in str(raised.value) and "bi-mat" not in str(raised.value)
    assert pauses == [0.5, 1.0]


def test_timeouts_are_retried_then_given_up(peer, pauses) -> None:  # type: ignore[no-untyped-def]
    impatient = HttpProjectSoftware(peer.url, peer.token, timeout=0.2, sleep=pauses.append)
    peer.stall_next(3)
    with pytest.raises(AdapterError, match="TimeoutError"):
        impatient.apply(KEY, row())
    assert peer.keys() == [KEY] * 3 and pauses == [0.5, 1.0]
    assert peer.users == {}


def test_answer_lost_after_the_change_is_replayed_not_repeated(peer, pauses) -> None:  # type: ignore[no-untyped-def]
    impatient = HttpProjectSoftware(peer.url, peer.token, timeout=0.2, sleep=pauses.append)
    peer.stall_next(1, after_effect=True)  # the user is created, the answer never arrives
    result = impatient.apply(KEY, row())["row"]
    assert (result["trang_thai"], result["ma_nguoi_dung"]) == ("thanh_cong", 1)
    assert len(peer.users) == 1 and peer.effects == 1 and peer.replays == 1
    assert peer.keys() == [KEY, KEY]


# ---------------------------------------------------------------- refusals


def test_4xx_is_refused_at_once_showing_status_and_body_without_secrets(adapter, peer, pauses) -> None:  # type: ignore[no-untyped-def]
    peer.refuse_next(400, {"error": "Số điện thoại không hợp lệ", "field": "phone",
                           "echo": f"Authorization: Bearer {peer.token}", "password": "khong-duoc-lo"})
    with pytest.raises(AdapterRefused) as raised:
        adapter.apply(KEY, row())
    message = str(raised.value)
    assert raised.value.status == 400
    assert "HTTP 400" in message and "Số điện thoại không hợp lệ" in message and "dòng 1" in message
    assert peer.token not in message and "khong-duoc-lo" not in message
    assert len(peer.requests) == 1 and pauses == []  # no retry


def test_unknown_user_and_wrong_token_are_refusals(adapter, peer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdapterRefused, match=r"HTTP 404 .*Không tìm thấy người dùng nvan\.skhdt@dongthap\.gov\.vn"):
        adapter.apply(KEY, row(thao_tac="cap_nhat"))
    stranger = HttpProjectSoftware(peer.url, "ma-sai", timeout=5)
    with pytest.raises(AdapterRefused, match="HTTP 401") as raised:
        stranger.apply(KEY, row())
    assert "ma-sai" not in str(raised.value)
    assert len(peer.requests) == 2 and peer.users == {}


def test_long_error_bodies_are_truncated(adapter, peer) -> None:  # type: ignore[no-untyped-def]
    peer.refuse_next(422, "x" * 5000)
    with pytest.raises(AdapterRefused) as raised:
        adapter.apply(KEY, row())
    assert len(str(raised.value)) < 700 and str(raised.value).endswith("…")


# ---------------------------------------------------------------- configuration


def test_not_configured_fails_with_a_clear_message() -> None:
    settings = Settings.from_env({})
    adapter = HttpProjectSoftware(settings.project_software_url, settings.project_software_token,
                                  settings.project_software_timeout_seconds)
    with pytest.raises(AdapterError) as raised:
        adapter.apply(KEY, row())
    assert str(raised.value) == NOT_CONFIGURED
    assert "PROJECT_SOFTWARE_URL" in NOT_CONFIGURED


def test_settings_read_the_environment_and_keep_the_token_out_of_reprs() -> None:
    settings = Settings.from_env({"PROJECT_SOFTWARE_URL": "http://127.0.0.1:8088/qltd",
                                  "PROJECT_SOFTWARE_TOKEN": "bi-mat-123", "PROJECT_SOFTWARE_TIMEOUT_SECONDS": "4"})
    assert (settings.project_software_url, settings.project_software_token,
            settings.project_software_timeout_seconds) == ("http://127.0.0.1:8088/qltd", "bi-mat-123", 4.0)
    adapter = HttpProjectSoftware(settings.project_software_url, settings.project_software_token)
    assert "bi-mat-123" not in repr(settings) and "bi-mat-123" not in repr(adapter)


@pytest.mark.parametrize("url", ["127.0.0.1:8088", "ftp://127.0.0.1/", "http://nguoi:mk@127.0.0.1/"])
def test_a_malformed_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ValueError, match="PROJECT_SOFTWARE_URL"):
        HttpProjectSoftware(url, "t")


def test_a_base_path_prefixes_every_endpoint(peer, pauses) -> None:  # type: ignore[no-untyped-def]
    prefixed = HttpProjectSoftware(peer.url + "/qltd/", peer.token, sleep=pauses.append)
    with pytest.raises(AdapterRefused, match="HTTP 404"):  # the test peer serves /api only
        prefixed.apply(KEY, row())
    assert [s.path for s in peer.requests] == ["/qltd/api/users"]


# ---------------------------------------------------------------- through the worker

PROCESS_BPMN = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_ThuPhanMem"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="thu_tai_khoan_phan_mem" name="Thử cấp tài khoản phần mềm Quản lý tiến độ dự án"
      isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    <bpmn:serviceTask id="Task_CapTaiKhoan" name="Thực hiện trên phần mềm Quản lý tiến độ dự án"
        camunda:type="external" camunda:topic="project_software.apply">
      <bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:collection="rows"
          camunda:elementVariable="row"/>
    </bpmn:serviceTask>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_CapTaiKhoan"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_CapTaiKhoan" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
</bpmn:definitions>'''.encode()
Uow = Callable[[], UnitOfWork]


@pytest.fixture
def started(publish, uow, people, services, adapter) -> Callable[[list[dict[str, Any]]], tuple[Services, int]]:  # type: ignore[no-untyped-def]
    """Publishes the test procedure and starts it with the given Biểu 2.1 rows."""
    publish({"thu_tai_khoan_phan_mem.bpmn": PROCESS_BPMN}, topics=frozenset({TOPIC}))
    wired = Services(services.settings, AdapterRegistry({TOPIC: adapter.apply}), clock=services.clock)

    def start(rows: list[dict[str, Any]]) -> tuple[Services, int]:
        with uow() as u:
            return wired, instances.start(u, wired, people["cv_stc"], "thu_tai_khoan_phan_mem", {"rows": rows}).id

    return start


def state(uow: Uow, instance_id: int) -> dict[str, Any]:
    with uow() as u:
        instance = u.session.get(ProcessInstance, instance_id)
        assert instance is not None
        calls = u.session.query(ServiceCall).filter_by(instance_id=instance_id).order_by(ServiceCall.id).all()
        incidents = u.session.query(Incident).filter_by(instance_id=instance_id).all()
        return {"status": instance.status,
                "calls": [(c.status, c.attempts) for c in calls],
                "incidents": [(i.element_id, i.topic, i.message, i.status) for i in incidents]}


def test_worker_carries_on_after_the_peer_fails_twice(started, uow, peer, pauses) -> None:  # type: ignore[no-untyped-def]
    services, instance_id = started([AN, {**AN, "stt": 2, "email": "ttbinh.stc@dongthap.gov.vn",
                                          "ho_ten": "Trần Thị Bình"}])
    peer.fail_next(2, 500)
    assert worker.run_once(uow, services, owner="w1") == 2  # both rows, in one pass
    after = state(uow, instance_id)
    assert after["status"] == InstanceStatus.COMPLETED
    assert after["calls"] == [(CallStatus.SUCCEEDED, 1), (CallStatus.SUCCEEDED, 1)]
    assert sorted(peer.users) == ["nvan.skhdt@dongthap.gov.vn", "ttbinh.stc@dongthap.gov.vn"]
    first, second = peer.keys()[:3], peer.keys()[3:]
    assert len(set(first)) == 1 and len(second) == 1 and first[0] != second[0]
    assert peer.effects == 2 and pauses == [0.5, 1.0]


def test_worker_retries_later_when_the_adapter_gives_up(started, uow, peer, clock) -> None:  # type: ignore[no-untyped-def]
    services, instance_id = started([AN])
    peer.fail_next(4, 502)  # three tries in the first call, one more in the next
    assert worker.run_once(uow, services, owner="w1") == 0
    assert state(uow, instance_id)["calls"] == [(CallStatus.PENDING, 1)]
    clock.advance(seconds=services.settings.retry_base_seconds)
    assert worker.run_once(uow, services, owner="w1") == 1
    assert state(uow, instance_id)["status"] == InstanceStatus.COMPLETED
    assert len(peer.users) == 1 and peer.effects == 1 and len(set(peer.keys())) == 1


def test_worker_turns_a_refusal_into_an_incident_showing_the_response(started, uow, peer, clock) -> None:  # type: ignore[no-untyped-def]
    services, instance_id = started([AN])
    refusal = {"error": "Phòng ban không có trong danh mục"}
    peer.refuse_next(400, refusal)
    assert worker.run_once(uow, services, owner="w1") == 0  # a refusal raises the incident at once
    broken = state(uow, instance_id)
    assert (broken["status"], broken["calls"]) == (InstanceStatus.ERROR, [(CallStatus.FAILED, 1)])
    ((element_id, topic, message, status),) = broken["incidents"]
    assert (element_id, topic, status) == ("Task_CapTaiKhoan", TOPIC, IncidentStatus.OPEN)
    assert "HTTP 400" in message and "Phòng ban không có trong danh mục" in message
    assert message.endswith("(bị từ chối, không thử lại)")
    assert peer.token not in message
    assert len(peer.requests) == 1  # not retried, neither in the call nor by the worker
    assert peer.users == {}
    clock.advance(days=1)
    assert worker.run_once(uow, services, owner="w1") == 0
    assert len(peer.requests) == 1  # an instance in error is left alone
