"""A small meeting procedure for the Huế rules' tests (process property `meeting` = `true`), with helpers.

Register (content, level, day and time, room, invited units) → a script sets hop_luc and
trang_thai_hop = da_xac_nhan → `meeting.invite` invites the units of don_vi_moi → a timer waits
until two hours before the start (`shift(hop_luc, hours=-2)`) → Sở TT&TT closes the meeting
(da_hop, and an incident report when there was one).
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.persistence.models import Meeting, User
from engine.services.context import Services
from tests import meeting_procedure
from tests.meeting_procedure import Uow, meeting_diagram, ready_task_id

__all__ = ["book", "meeting_id_of", "procedure_files", "ready_task_id", "registration"]

PROCESS_ID = "hop_quy_che"
PROCESS_NAME = "Họp theo quy chế (thử nghiệm)"
UNIT_CHOICES = [("so_yt", "Sở Y tế"), ("so_tc", "Sở Tài chính"), ("sttt", "Sở Thông tin và Truyền thông"),
                ("khong_co", "Đơn vị không tồn tại")]

REGISTER_FORM = {"type": "default", "id": "Form_HopQcDangKy", "components": [
    {"type": "textfield", "key": "noi_dung", "id": "Field_NoiDung", "label": "Nội dung",
     "validate": {"required": True, "maxLength": 500}},
    {"type": "select", "key": "cap_hop", "id": "Field_CapHop", "label": "Cấp họp", "validate": {"required": True},
     "values": [{"value": "tinh_huyen", "label": "Tỉnh - Huyện"}, {"value": "tw_tinh", "label": "TW - Tỉnh"},
                {"value": "noi_tinh", "label": "Nội tỉnh"}]},
    {"type": "textfield", "key": "ngay_hop", "id": "Field_NgayHop", "label": "Ngày họp",
     "validate": {"required": True}},
    {"type": "textfield", "key": "gio_bat_dau", "id": "Field_GioBatDau", "label": "Giờ bắt đầu",
     "validate": {"required": True}},
    {"type": "textfield", "key": "dia_diem", "id": "Field_DiaDiem", "label": "Địa điểm (điểm cầu chính)",
     "validate": {"required": True}},
    {"type": "textfield", "key": "don_vi_chu_tri", "id": "Field_DonViChuTri", "label": "Đơn vị chủ trì"},
    {"type": "textfield", "key": "nguoi_chu_tri", "id": "Field_NguoiChuTri", "label": "Người chủ trì"},
    {"type": "textfield", "key": "chuc_vu_chu_tri", "id": "Field_ChucVuChuTri", "label": "Chức vụ người chủ trì"},
    {"type": "checkbox", "key": "dot_xuat", "id": "Field_DotXuat", "label": "Đột xuất"},
    {"type": "checkbox", "key": "ghi_hinh", "id": "Field_GhiHinh", "label": "Ghi hình"},
    {"type": "checkbox", "key": "dong_y_ghi_hinh", "id": "Field_DongYGhiHinh",
     "label": "Người chủ trì đồng ý ghi hình"},
    {"type": "checklist", "key": "don_vi_moi", "id": "Field_DonViMoi", "label": "Đơn vị được mời",
     "values": [{"value": v, "label": label} for v, label in UNIT_CHOICES]},
]}
CLOSE_FORM = {"type": "default", "id": "Form_HopQcKetThuc", "components": [
    {"type": "select", "key": "trang_thai_hop", "id": "Field_KetThuc", "label": "Kết quả",
     "values": [{"value": "da_hop", "label": "Đã họp"}], "validate": {"required": True}},
    {"type": "textfield", "key": "su_co", "id": "Field_SuCo", "label": "Sự cố (Phụ lục III)"},
]}

BPMN = meeting_diagram(PROCESS_ID, PROCESS_NAME, '''
    <bpmn:userTask id="Task_DangKy" name="Đăng ký hội nghị" camunda:formKey="hop_qc_dang_ky"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:scriptTask id="Task_ThoiGian" name="Ghi thời gian họp" scriptFormat="python">
      <bpmn:script>hop_luc = meeting_time(ngay_hop, gio_bat_dau).isoformat()
trang_thai_hop = "da_xac_nhan"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:serviceTask id="Task_MoiHop" name="Gửi giấy mời họp" camunda:type="external"
        camunda:topic="meeting.invite"/>
    <bpmn:intermediateCatchEvent id="Timer_KiemTra" name="Hai giờ trước cuộc họp">
      <bpmn:timerEventDefinition>
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">shift(hop_luc, hours=-2)</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="Task_KetThuc" name="Kết thúc hội nghị" camunda:formKey="hop_qc_ket_thuc"
        camunda:candidateGroups="sttt:chuyen_vien" camunda:dueDate="shift(hop_luc, hours=4)"/>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_DangKy"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_DangKy" targetRef="Task_ThoiGian"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_ThoiGian" targetRef="Task_MoiHop"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_MoiHop" targetRef="Timer_KiemTra"/>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Timer_KiemTra" targetRef="Task_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_KetThuc" targetRef="EndEvent_KetThuc"/>''')


def procedure_files() -> dict[str, bytes]:
    return {f"{PROCESS_ID}.bpmn": BPMN.encode(), "hop_qc_dang_ky.form": json.dumps(REGISTER_FORM).encode(),
            "hop_qc_ket_thuc.form": json.dumps(CLOSE_FORM).encode()}


def registration(title: str = "Hội nghị triển khai nhiệm vụ chuyển đổi số", day: str = "2026-12-03",
                 start: str = "08:00", *, invited: tuple[str, ...] = ("so_yt", "sttt"), **more: Any) -> dict[str, Any]:
    return {"noi_dung": title, "cap_hop": "tinh_huyen", "ngay_hop": day, "gio_bat_dau": start,
            "dia_diem": "Phòng họp trực tuyến UBND tỉnh", "don_vi_chu_tri": "Sở Tài chính",
            "nguoi_chu_tri": "Nguyễn Văn Phương", "chuc_vu_chu_tri": "Chủ tịch UBND tỉnh", "dot_xuat": False,
            "ghi_hinh": True, "dong_y_ghi_hinh": True, "don_vi_moi": list(invited), **more}


def book(uow: Uow, services: Services, requester: User, data: dict[str, Any]) -> int:
    """Start an instance and register the meeting (the invitation waits for the worker); the instance id."""
    return meeting_procedure.book(uow, services, requester, data, PROCESS_ID)


def meeting_id_of(uow: Uow, instance_id: int) -> int:
    with uow() as u:
        found = u.session.scalar(select(Meeting.id).where(Meeting.instance_id == instance_id))
    assert found is not None
    return int(found)
