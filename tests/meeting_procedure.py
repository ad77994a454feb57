"""A small meeting procedure for tests (process property `meeting` = `true`), and helpers that book,
decide and close its meetings through the real use cases (start, complete_task, cancel).

Register (Phụ lục I's fields) → a script sets hop_luc and trang_thai_hop = dang_ky → Sở TT&TT
confirms (da_xac_nhan) or refuses (tu_choi, the end) → Sở TT&TT closes it: held (da_hop),
postponed (hoan) or cancelled (huy). ket_thuc_luc is left to the register's rules on purpose.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from engine.domain.enums import TaskStatus
from engine.persistence.models import HumanTask, User
from engine.persistence.uow import UnitOfWork
from engine.services import instances
from engine.services.context import Services

PROCESS_ID = "hop_thu_nghiem"
PROCESS_NAME = "Họp trực tuyến (thử nghiệm)"
LEVELS = [("noi_tinh", "Nội tỉnh"), ("chuyen_tiep", "Chuyển tiếp"), ("tinh_huyen", "Tỉnh - Huyện"),
          ("huyen_xa", "Huyện - Xã"), ("tinh_huyen_xa", "Tỉnh - Huyện - Xã"), ("tw_tinh", "TW - Tỉnh"),
          ("tw_tinh_huyen", "TW - Tỉnh - Huyện"), ("tw_tinh_huyen_xa", "TW - Tỉnh - Huyện - Xã")]


def _choices(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": v, "label": label} for v, label in pairs]


REGISTER_FORM = {"type": "default", "id": "Form_HopThuDangKy", "components": [
    {"type": "textfield", "key": "noi_dung", "id": "Field_NoiDung", "label": "Nội dung",
     "validate": {"required": True, "maxLength": 500}},
    {"type": "select", "key": "cap_hop", "id": "Field_CapHop", "label": "Cấp họp", "values": _choices(LEVELS),
     "validate": {"required": True}},
    {"type": "datetime", "subtype": "date", "key": "ngay_hop", "id": "Field_NgayHop", "dateLabel": "Ngày họp",
     "validate": {"required": True}},
    {"type": "datetime", "subtype": "time", "key": "gio_bat_dau", "id": "Field_GioBatDau",
     "timeLabel": "Giờ bắt đầu", "validate": {"required": True}},
    {"type": "datetime", "subtype": "time", "key": "gio_ket_thuc", "id": "Field_GioKetThuc",
     "timeLabel": "Giờ kết thúc"},
    {"type": "textfield", "key": "dia_diem", "id": "Field_DiaDiem", "label": "Địa điểm (điểm cầu chính)",
     "validate": {"required": True, "maxLength": 255}},
    {"type": "textfield", "key": "don_vi_chu_tri", "id": "Field_DonViChuTri", "label": "Đơn vị chủ trì",
     "validate": {"required": True, "maxLength": 255}},
    {"type": "checkbox", "key": "dot_xuat", "id": "Field_DotXuat", "label": "Đột xuất"},
    {"type": "dynamiclist", "id": "List_DiemCau", "label": "Điểm cầu vệ tinh", "path": "diem_cau",
     "isRepeating": True, "allowAddRemove": True, "defaultRepetitions": 0, "components": [
         {"type": "textfield", "key": "ten_diem_cau", "id": "Field_TenDiemCau", "label": "Tên điểm cầu",
          "validate": {"required": True}},
         {"type": "number", "key": "so_nguoi", "id": "Field_SoNguoi", "label": "Số người"},
     ]},
]}
DECIDE_FORM = {"type": "default", "id": "Form_HopThuXuLy", "components": [
    {"type": "select", "key": "trang_thai_hop", "id": "Field_XuLy", "label": "Xử lý đăng ký",
     "values": _choices([("da_xac_nhan", "Xác nhận"), ("tu_choi", "Từ chối")]), "validate": {"required": True}},
]}
CLOSE_FORM = {"type": "default", "id": "Form_HopThuKetThuc", "components": [
    {"type": "select", "key": "trang_thai_hop", "id": "Field_KetThuc", "label": "Kết quả",
     "values": _choices([("da_hop", "Đã họp"), ("hoan", "Hoãn"), ("huy", "Hủy")]), "validate": {"required": True}},
]}



def meeting_diagram(process_id: str, name: str, elements: str) -> str:
    """A test meeting procedure's BPMN (process property `meeting` = `true`) around `elements`, its tasks,
    events and flows after the start event `StartEvent_BatDau`."""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{process_id}"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" name="{name}" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="meeting" value="true" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="StartEvent_BatDau"/>{elements}
  </bpmn:process>
</bpmn:definitions>'''


BPMN = meeting_diagram(PROCESS_ID, PROCESS_NAME, '''
    <bpmn:userTask id="Task_DangKy" name="Đăng ký hội nghị" camunda:formKey="hop_thu_dang_ky"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:scriptTask id="Task_ThoiGian" name="Ghi thời gian họp" scriptFormat="python">
      <bpmn:script>hop_luc = meeting_time(ngay_hop, gio_bat_dau).isoformat()
trang_thai_hop = "dang_ky"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="Task_XuLy" name="Xử lý nội dung đăng ký" camunda:formKey="hop_thu_xu_ly"
        camunda:candidateGroups="sttt:chuyen_vien"/>
    <bpmn:exclusiveGateway id="Gateway_XuLy" default="Flow_XacNhan"/>
    <bpmn:userTask id="Task_KetThuc" name="Kết thúc hội nghị" camunda:formKey="hop_thu_ket_thuc"
        camunda:candidateGroups="sttt:chuyen_vien"/>
    <bpmn:endEvent id="EndEvent_TuChoi"/>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_DangKy"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_DangKy" targetRef="Task_ThoiGian"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_ThoiGian" targetRef="Task_XuLy"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_XuLy" targetRef="Gateway_XuLy"/>
    <bpmn:sequenceFlow id="Flow_TuChoi" sourceRef="Gateway_XuLy" targetRef="EndEvent_TuChoi">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">trang_thai_hop == "tu_choi"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_XacNhan" sourceRef="Gateway_XuLy" targetRef="Task_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_KetThuc" targetRef="EndEvent_KetThuc"/>''')


def procedure_files() -> dict[str, bytes]:
    return {f"{PROCESS_ID}.bpmn": BPMN.encode(), "hop_thu_dang_ky.form": json.dumps(REGISTER_FORM).encode(),
            "hop_thu_xu_ly.form": json.dumps(DECIDE_FORM).encode(),
            "hop_thu_ket_thuc.form": json.dumps(CLOSE_FORM).encode()}


def registration(title: str, day: str, start: str = "08:00", *, level: str = "tinh_huyen",
                 room: str = "Phòng họp số 1, UBND tỉnh", satellites: int = 0, **more: Any) -> dict[str, Any]:
    """Phụ lục I as the form submits it."""
    return {"noi_dung": title, "cap_hop": level, "ngay_hop": day, "gio_bat_dau": start, "dia_diem": room,
            "don_vi_chu_tri": "Văn phòng UBND tỉnh", "dot_xuat": False,
            "diem_cau": [{"ten_diem_cau": f"UBND huyện {n + 1}", "so_nguoi": 10} for n in range(satellites)],
            **more}


Uow = Callable[[], UnitOfWork]


def ready_task_id(uow: Uow, instance_id: int) -> int | None:
    with uow() as u:
        return u.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == TaskStatus.READY))


def do_ready_task(uow: Uow, services: Services, actor: User, instance_id: int, data: dict[str, Any]) -> None:
    task_id = ready_task_id(uow, instance_id)
    assert task_id is not None, f"instance {instance_id} has no ready task"
    with uow() as u:
        instances.complete_task(u, services, actor, task_id, data)


def book(uow: Uow, services: Services, requester: User, data: dict[str, Any], process_id: str = PROCESS_ID) -> int:
    """Start an instance of `process_id` and register the meeting; returns the instance id."""
    with uow() as u:
        instance_id = instances.start(u, services, requester, process_id).id
    do_ready_task(uow, services, requester, instance_id, data)
    return instance_id


def take_to(uow: Uow, services: Services, requester: User, officer: User, instance_id: int, state: str) -> None:
    """From dang_ky to `state`: da_xac_nhan, tu_choi, da_hop, hoan, huy (closing task) or cancelled
    (the instance cancelled by its requester while confirmed)."""
    if state == "dang_ky":
        return
    decided = "tu_choi" if state == "tu_choi" else "da_xac_nhan"
    do_ready_task(uow, services, officer, instance_id, {"trang_thai_hop": decided})
    if state in ("da_hop", "hoan", "huy"):
        do_ready_task(uow, services, officer, instance_id, {"trang_thai_hop": state})
    elif state == "cancelled":
        with uow() as u:
            instances.cancel(u, services, requester, instance_id)
