"""Publishing a procedure: numbered immutable versions, and bad files refused with reasons, storing nothing."""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from engine.domain.errors import PublishRefused
from engine.persistence.models import AuditEvent, ProcedureVersion
from engine.persistence.uow import UnitOfWork
from engine.services.publishing import Problem
from engine.settings import Settings

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
FILE = "thu_nghiem.bpmn"


# ---------------------------------------------------------------- builders


def process_xml(*elements: str, flows: str | None = None, executable: bool = True,
                prolog: str = "") -> bytes:
    """A minimal Camunda 7 process: StartEvent_BatDau → each element in order → EndEvent_KetThuc.

    `flows` replaces the generated sequence flows when the elements need other wiring.
    """
    ids = [re.search(r'\bid="([^"]+)"', element).group(1) for element in elements]  # type: ignore[union-attr]
    chain = ["StartEvent_BatDau", *ids, "EndEvent_KetThuc"]
    if flows is None:
        flows = "".join(
            f'<bpmn:sequenceFlow id="Flow_{i}" sourceRef="{a}" targetRef="{b}"/>'
            for i, (a, b) in enumerate(itertools.pairwise(chain), start=1))
    return f'''<?xml version="1.0" encoding="UTF-8"?>{prolog}
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_ThuNghiem"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="thu_nghiem" name="Quy trình thử nghiệm" isExecutable="{str(executable).lower()}">
    <bpmn:startEvent id="StartEvent_BatDau" name="Bắt đầu"/>
    {"".join(elements)}
    <bpmn:endEvent id="EndEvent_KetThuc" name="Kết thúc"/>
    {flows}
  </bpmn:process>
</bpmn:definitions>'''.encode()


def user_task(id_: str, name: str = "Nhập thông tin", form: str | None = "email_account_reply",
              groups: str | None = "initiator:chuyen_vien") -> str:
    attrs = (f' camunda:formKey="{form}"' if form else "") + (
        f' camunda:candidateGroups="{groups}"' if groups else "")
    return f'<bpmn:userTask id="{id_}" name="{name}"{attrs}/>'


def script_task(id_: str, script: str) -> str:
    return (f'<bpmn:scriptTask id="{id_}" name="Tính toán" scriptFormat="python">'
            f'<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>')


def service_task(id_: str, topic: str) -> str:
    return (f'<bpmn:serviceTask id="{id_}" name="Gọi hệ thống" camunda:type="external" '
            f'camunda:topic="{topic}"/>')


def gateway_process(condition: str) -> bytes:
    """StartEvent → Gateway_SoTien: `condition` → Task_Lon, default → EndEvent_KetThuc."""
    flows = f'''
    <bpmn:sequenceFlow id="Flow_VaoCong" sourceRef="StartEvent_BatDau" targetRef="Gateway_SoTien"/>
    <bpmn:sequenceFlow id="Flow_Lon" sourceRef="Gateway_SoTien" targetRef="Task_Lon">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Nho" sourceRef="Gateway_SoTien" targetRef="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_SauLon" sourceRef="Task_Lon" targetRef="EndEvent_KetThuc"/>'''
    return process_xml('<bpmn:exclusiveGateway id="Gateway_SoTien" name="Số tiền?" default="Flow_Nho"/>',
                       user_task("Task_Lon"), flows=flows)


def stored_counts(uow: Callable[[], UnitOfWork]) -> tuple[int, int]:
    with uow() as u:
        return (u.session.scalar(select(func.count()).select_from(ProcedureVersion)) or 0,
                u.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def refusal(publish, uow, files: dict[str, bytes]) -> list[Problem]:  # type: ignore[no-untyped-def]
    """Publish `files`, expecting a refusal that stores nothing; returns the problems."""
    before = stored_counts(uow)
    with pytest.raises(PublishRefused) as caught:
        publish(files)
    assert stored_counts(uow) == before
    problems = caught.value.details
    assert problems and all(isinstance(p, Problem) for p in problems)
    return problems


def problem_at(problems: list[Problem], element_id: str) -> Problem:
    found = [p for p in problems if p.element_id == element_id]
    assert found, [p.as_dict() for p in problems]
    problem = found[0]
    # Both UI languages, and really two different texts (Vietnamese with its diacritics).
    assert problem.message.vi and problem.message.en and problem.message.vi != problem.message.en
    assert re.search(r"[^\x00-\x7f]", problem.message.vi)
    return problem


# ---------------------------------------------------------------- versions


def test_bundled_procedure_publishes_as_version_1(publish, email_account_files, uow) -> None:  # type: ignore[no-untyped-def]
    version, created = publish(email_account_files)
    assert created
    assert (version.process_id, version.version) == ("email_account", 1)
    assert re.fullmatch(r"[0-9a-f]{64}", version.content_hash)
    assert set(version.forms) == {"email_account_request", "email_account_process", "email_account_escalation",
                                  "email_account_reply"}
    with uow() as u:
        events = u.session.scalars(select(AuditEvent).where(AuditEvent.action == "publish")).all()
        assert [e.after["version"] for e in events] == [1]
        assert events[0].actor_name == "Nguyễn Thị Quản"


def test_identical_content_returns_the_same_version(publish, email_account_files, uow) -> None:  # type: ignore[no-untyped-def]
    first, _ = publish(email_account_files)
    again, created = publish(dict(email_account_files))
    assert not created
    assert (again.id, again.version, again.content_hash) == (first.id, 1, first.content_hash)
    assert stored_counts(uow) == (1, 1)  # one version, one publish event


def test_changed_content_gives_version_2_and_keeps_version_1(publish, email_account_files, uow) -> None:  # type: ignore[no-untyped-def]
    first, _ = publish(email_account_files)
    (name, xml), = ((n, c) for n, c in email_account_files.items() if n.endswith(".bpmn"))
    renamed = xml.replace("Phúc đáp công văn".encode(), "Gửi công văn phúc đáp".encode())
    assert renamed != xml
    second, created = publish({name: renamed})
    assert created
    assert (second.process_id, second.version) == ("email_account", 2)
    assert second.content_hash != first.content_hash
    with uow() as u:
        v1 = u.session.scalar(select(ProcedureVersion).where(ProcedureVersion.version == 1))
        assert v1 is not None
        assert (v1.content_hash, v1.bpmn_xml, v1.spec_json) == (first.content_hash, first.bpmn_xml,
                                                                  first.spec_json)
        assert "Phúc đáp công văn" in v1.bpmn_xml and "Gửi công văn phúc đáp" not in v1.bpmn_xml
    assert stored_counts(uow) == (2, 2)


def test_minimal_built_process_is_valid(publish) -> None:  # type: ignore[no-untyped-def]
    # The builder below makes valid diagrams, so each refusal test breaks exactly one thing.
    version, created = publish({FILE: process_xml(user_task("Task_NhapThongTin"),
                                                  script_task("Task_TinhToan", "tong = 1 + 1"))})
    assert created and (version.process_id, version.version) == ("thu_nghiem", 1)
    version, created = publish({FILE: gateway_process("so_tien &gt; 5")})
    assert created and version.version == 2


# ---------------------------------------------------------------- refusals

BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


def test_malformed_xml_is_refused(publish, uow) -> None:  # type: ignore[no-untyped-def]
    problems = refusal(publish, uow, {FILE: process_xml(user_task("Task_A"))[:-40]})
    assert "XML" in problem_at(problems, FILE).message.en


def test_doctype_and_entities_are_refused(publish, uow) -> None:  # type: ignore[no-untyped-def]
    files = {FILE: process_xml(user_task("Task_A"), prolog=BILLION_LAUGHS).replace(
        b'name="Nh', b'name="&lol3; Nh')}
    problems = refusal(publish, uow, files)
    assert "DOCTYPE" in problem_at(problems, FILE).message.en


def test_file_over_the_size_limit_is_refused(publish, uow) -> None:  # type: ignore[no-untyped-def]
    padding = "<!-- " + "x" * Settings().max_upload_bytes + " -->"
    problems = refusal(publish, uow, {FILE: process_xml(user_task("Task_A"), prolog=padding)})
    assert "exceeds" in problem_at(problems, FILE).message.en


def test_bpmn_without_executable_process_is_refused(publish, uow) -> None:  # type: ignore[no-untyped-def]
    problems = refusal(publish, uow, {FILE: process_xml(user_task("Task_A"), executable=False)})
    assert "isExecutable" in problem_at(problems, FILE).message.en


@pytest.mark.parametrize("element, element_id, words", [
    (user_task("Task_ThieuBieuMau", form="bieu_mau_khong_co"), "Task_ThieuBieuMau", "bieu_mau_khong_co"),
    (user_task("Task_KhongNguoiLam", groups=None), "Task_KhongNguoiLam", "performer"),
    (user_task("Task_VaiTroLa", groups="sttt:giam_doc"), "Task_VaiTroLa", "unknown role"),
    (service_task("Task_GoiLdap", "ldap.tao_tai_khoan"), "Task_GoiLdap", "ldap.tao_tai_khoan"),
    (script_task("Task_NhapOs", "import os"), "Task_NhapOs", "import"),
    (script_task("Task_LopAn", "x = ().__class__"), "Task_LopAn", "__class__"),
    (user_task("Start"), "Start", "reserved"),
], ids=["missing form", "no performer", "unknown role", "unknown topic", "import in script",
        "dunder in script", "reserved id"])
def test_bad_element_is_refused_and_named(publish, uow, element: str, element_id: str,  # type: ignore[no-untyped-def]
                                          words: str) -> None:
    problems = refusal(publish, uow, {FILE: process_xml(user_task("Task_HopLe"), element)})
    assert words in problem_at(problems, element_id).message.en
    assert all(p.element_id != "Task_HopLe" for p in problems)


@pytest.mark.parametrize("condition, words", [
    ("${amount &gt; 5}", "JUEL"),
    ("so_tien &gt;", "Invalid gateway condition"),
    ("so_tien.__class__", "__class__"),
], ids=["JUEL", "syntax", "dunder"])
def test_bad_gateway_condition_is_refused_and_named(publish, uow, condition: str, words: str) -> None:  # type: ignore[no-untyped-def]
    problems = refusal(publish, uow, {FILE: gateway_process(condition)})
    assert words in problem_at(problems, "Gateway_SoTien").message.en


def test_every_problem_is_reported_at_once(publish, uow) -> None:  # type: ignore[no-untyped-def]
    files = {FILE: process_xml(user_task("Task_KhongNguoiLam", groups=None),
                               service_task("Task_GoiLdap", "ldap.tao_tai_khoan"),
                               script_task("Task_NhapOs", "import os"))}
    problems = refusal(publish, uow, files)
    for element_id in ("Task_KhongNguoiLam", "Task_GoiLdap", "Task_NhapOs"):
        problem_at(problems, element_id)
