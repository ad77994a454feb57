"""A small procedure with file fields, and sample files of every kind, for the attachment tests.

Nộp hồ sơ (the requesting unit: scanned dossier, several PDF/images, required; one cover letter,
PDF or Word) → Xem xét hồ sơ (the centre, sttt: sees the dossier read-only, may add one
spreadsheet) → end.
"""
from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import openpyxl

from tests.engine.docx_files import word_file

PROCESS_ID = "ho_so_dinh_kem_thu"
SUBMIT_FORM = {"type": "default", "id": "Form_NopHoSoThu", "components": [
    {"type": "textfield", "key": "tieu_de", "id": "Field_TieuDe", "label": "Tiêu đề"},
    {"type": "filepicker", "key": "ho_so", "id": "Field_HoSo", "label": "Hồ sơ quét", "multiple": True,
     "accept": ".pdf,image/*", "validate": {"required": True}},
    {"type": "filepicker", "key": "cong_van", "id": "Field_CongVan", "label": "Công văn đề nghị",
     "accept": ".pdf,.docx"},
]}
REVIEW_FORM = {"type": "default", "id": "Form_XemXetThu", "components": [
    {"type": "filepicker", "key": "ho_so", "id": "Field_HoSoDaNop", "label": "Hồ sơ quét", "readonly": True},
    {"type": "filepicker", "key": "bang_ke", "id": "Field_BangKe", "label": "Bảng kê", "accept": ".xlsx"},
]}

BPMN = f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    id="Definitions_HoSoDinhKem"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{PROCESS_ID}" name="Hồ sơ có tệp đính kèm (thử)" isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    <bpmn:userTask id="Task_NopHoSo" name="Nộp hồ sơ" camunda:formKey="nop_ho_so_thu"
        camunda:candidateGroups="initiator:chuyen_vien"/>
    <bpmn:userTask id="Task_XemXet" name="Xem xét hồ sơ" camunda:formKey="xem_xet_thu"
        camunda:candidateGroups="sttt:chuyen_vien"/>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_NopHoSo"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_NopHoSo" targetRef="Task_XemXet"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_XemXet" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_HoSoDinhKem">
    <bpmndi:BPMNPlane id="BPMNPlane_HoSoDinhKem" bpmnElement="{PROCESS_ID}">
      <bpmndi:BPMNShape id="Shape_BatDau" bpmnElement="StartEvent_BatDau">
        <dc:Bounds x="152" y="102" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Shape_NopHoSo" bpmnElement="Task_NopHoSo">
        <dc:Bounds x="240" y="80" width="100" height="80"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Shape_XemXet" bpmnElement="Task_XemXet">
        <dc:Bounds x="400" y="80" width="100" height="80"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Shape_KetThuc" bpmnElement="EndEvent_KetThuc">
        <dc:Bounds x="562" y="102" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Edge_1" bpmnElement="Flow_1">
        <di:waypoint x="188" y="120"/><di:waypoint x="240" y="120"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Edge_2" bpmnElement="Flow_2">
        <di:waypoint x="340" y="120"/><di:waypoint x="400" y="120"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Edge_3" bpmnElement="Flow_3">
        <di:waypoint x="500" y="120"/><di:waypoint x="562" y="120"/>
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>'''


def procedure() -> dict[str, bytes]:
    return {f"{PROCESS_ID}.bpmn": BPMN.encode(), "nop_ho_so_thu.form": json.dumps(SUBMIT_FORM).encode(),
            "xem_xet_thu.form": json.dumps(REVIEW_FORM).encode()}


# ---------------------------------------------------------------- sample files


def pdf(text: str = "Ho so quet") -> bytes:
    """A small but real one-page PDF (cross-reference offsets computed)."""
    stream = f"BT /F1 18 Tf 40 100 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png() -> bytes:
    """A 1×1 white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\xff\xff\xff")) \
        + chunk(b"IEND", b"")


def jpeg() -> bytes:
    """The start of a JPEG (the kind is told by the first bytes)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def docx() -> bytes:
    return word_file("Công văn đề nghị cấp tài khoản")


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["Họ và tên", "Email"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsm() -> bytes:
    """An .xlsx package carrying a VBA project (what a macro workbook renamed to .xlsx looks like)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx())) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"\0" * 64)
    return out.getvalue()
