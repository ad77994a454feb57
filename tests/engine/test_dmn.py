"""DMN decision tables: business rule tasks decide in the sandbox with Python cells (docs/modeling.md)."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.bpmn.parser import build_specs, parse_xml
from engine.bpmn.runtime import Runtime, WorkflowError, spec_bundle
from engine.domain.enums import IncidentStatus, InstanceStatus, TaskStatus
from engine.persistence.models import HumanTask, Incident, ProcedureVersion, ProcessInstance
from engine.persistence.uow import UnitOfWork
from engine.services import instances, publishing
from tests.engine.conftest import add_people
from tests.engine.test_publishing import problem_at, refusal

Uow = Callable[[], UnitOfWork]
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"

#: The hotline's routing, in small: field and locality → the agency that handles the report.
ROUTING_RULES = [
    (['"y_te"', "-"], ['"so_yt"']),
    (['"dat_dai"', '"huyen_x"'], ['"ubnd_huyen_x"']),
    (['"thu_tuc_hanh_chinh"', ""], ['"ubnd_" + dia_ban']),  # the locality's UBND
    (['"tai_chinh", "ngan_sach"', "-"], ['"so_tc"']),
    (["-", "-"], ['"sttt"']),  # default row: the Sở TT&TT sorts it out
]
RECEPTION_FORM = {"type": "default", "id": "Form_TiepNhan", "components": [
    {"type": "textfield", "key": "linh_vuc", "id": "Field_LinhVuc", "label": "Lĩnh vực",
     "validate": {"required": True}},
    {"type": "textfield", "key": "dia_ban", "id": "Field_DiaBan", "label": "Địa bàn",
     "validate": {"required": True}},
]}


def dmn_xml(rules: list[tuple[list[str], list[str]]], *, hit_policy: str = "FIRST", decision: str = "phan_luong",
            inputs: tuple[str, ...] = ("linh_vuc", "dia_ban"), outputs: tuple[str, ...] = ("co_quan",),
            table_attrs: str = "", extra: str = "") -> bytes:
    """One decision table as bpmn.io's DMN editor writes it (DMN 1.3)."""
    columns = "".join(
        f'<input id="Input_{i}" label="{name}"><inputExpression id="InputExpression_{i}" typeRef="string">'
        f"<text>{name}</text></inputExpression></input>" for i, name in enumerate(inputs, 1))
    columns += "".join(f'<output id="Output_{i}" label="{name}" name="{name}" typeRef="string"/>'
                       for i, name in enumerate(outputs, 1))
    rows = "".join(
        f'<rule id="Rule_{r}">'
        + "".join(f'<inputEntry id="In_{r}_{c}"><text>{escape(t)}</text></inputEntry>'
                  for c, t in enumerate(ins, 1))
        + "".join(f'<outputEntry id="Out_{r}_{c}"><text>{escape(t)}</text></outputEntry>'
                  for c, t in enumerate(outs, 1))
        + "</rule>" for r, (ins, outs) in enumerate(rules, 1))
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{DMN_NS}" id="Definitions_{decision}" name="Bảng quyết định" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="{decision}" name="Phân luồng phản ánh">
    <decisionTable id="DecisionTable_{decision}" hitPolicy="{hit_policy}"{table_attrs}>{columns}{rows}</decisionTable>
  </decision>{extra}
</definitions>'''.encode()


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def routing_bpmn(decision_ref: str | None = "phan_luong", process_id: str = "phan_luong_phan_anh") -> bytes:
    ref = f' camunda:decisionRef="{decision_ref}"' if decision_ref is not None else ""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}" id="Definitions_PhanLuong"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" name="Phân luồng phản ánh" isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    <bpmn:userTask id="Task_TiepNhan" name="Tiếp nhận phản ánh" camunda:formKey="tiep_nhan"
        camunda:candidateGroups="sttt:chuyen_vien"/>
    <bpmn:businessRuleTask id="Task_PhanLoai" name="Xác định cơ quan xử lý"{ref}/>
    <bpmn:userTask id="Task_XuLy" name="Xử lý phản ánh" camunda:formKey="tiep_nhan"
        camunda:candidateGroups="${{co_quan}}:chuyen_vien"/>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_TiepNhan"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_TiepNhan" targetRef="Task_PhanLoai"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_PhanLoai" targetRef="Task_XuLy"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_XuLy" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
</bpmn:definitions>'''.encode()


def files(dmn: bytes | None = None, bpmn: bytes | None = None) -> dict[str, bytes]:
    return {"phan_luong_phan_anh.bpmn": bpmn or routing_bpmn(), "phan_luong.dmn": dmn or dmn_xml(ROUTING_RULES),
            "tiep_nhan.form": json.dumps(RECEPTION_FORM).encode()}


@pytest.fixture
def agencies(uow: Uow, session_factory: Any, people: dict[str, Any]) -> dict[str, Any]:
    """The test people plus two district UBNDs, each with a chuyên viên."""
    return add_people(uow, session_factory, {
        "cv_ubnd_x": ("Phạm Văn Xuân", "ubnd_huyen_x", ["chuyen_vien"]),
        "cv_ubnd_y": ("Hồ Thị Yến", "ubnd_huyen_y", ["chuyen_vien"]),
    }, {"ubnd_huyen_x": "UBND huyện X", "ubnd_huyen_y": "UBND huyện Y"})


def ready_tasks(uow: Uow, instance_id: int) -> list[HumanTask]:
    with uow() as u:
        tasks = list(u.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)))
        u.session.expunge_all()
        return tasks


def report(uow: Uow, services: Any, people: dict[str, Any], linh_vuc: str, dia_ban: str) -> int:
    """Start the procedure and complete the reception (the workflow is restored from storage to do so)."""
    with uow() as u:
        instance_id = instances.start(u, services, people["cv_sttt"], "phan_luong_phan_anh").id
    (reception,) = ready_tasks(uow, instance_id)
    assert reception.element_id == "Task_TiepNhan"
    with uow() as u:
        instances.complete_task(u, services, people["cv_sttt"], reception.id,
                                {"linh_vuc": linh_vuc, "dia_ban": dia_ban})
    return instance_id


# ---------------------------------------------------------------- the engine, end to end


@pytest.mark.parametrize(("linh_vuc", "dia_ban", "agency", "performer"), [
    ("y_te", "huyen_y", "so_yt", "cv_syt"),
    ("dat_dai", "huyen_x", "ubnd_huyen_x", "cv_ubnd_x"),
    ("dat_dai", "huyen_y", "sttt", "cv_sttt"),  # no row for land in Y: the default row
    ("thu_tuc_hanh_chinh", "huyen_y", "ubnd_huyen_y", "cv_ubnd_y"),
    ("ngan_sach", "huyen_x", "so_tc", "cv_stc"),
])
def test_the_table_routes_the_report_to_the_agency(uow, services, publish, agencies, linh_vuc, dia_ban,  # type: ignore[no-untyped-def]
                                                   agency, performer) -> None:
    publish(files())
    instance_id = report(uow, services, agencies, linh_vuc, dia_ban)
    (handling,) = ready_tasks(uow, instance_id)
    assert handling.element_id == "Task_XuLy"
    with uow() as u:
        task = instances.get_task(u, handling.id)
        assert instances.task_data(u, services, task)["co_quan"] == agency
        allowed = {name for name, user in agencies.items() if instances.can_perform(user, task)}
    assert allowed == {performer}


def test_a_report_no_row_matches_stops_with_an_incident_naming_the_table(  # type: ignore[no-untyped-def]
        uow, services, publish, agencies) -> None:
    publish(files(dmn_xml(ROUTING_RULES[:-1], hit_policy="UNIQUE")))  # no default row
    instance_id = report(uow, services, agencies, "giao_thong", "huyen_x")
    assert ready_tasks(uow, instance_id) == []
    with uow() as u:
        assert u.session.get(ProcessInstance, instance_id).status == InstanceStatus.ERROR
        (incident,) = u.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
        assert (incident.element_id, incident.status) == ("Task_PhanLoai", IncidentStatus.OPEN)
        message = incident.message
    assert "«Phân luồng phản ánh» không có dòng nào khớp" in message
    assert "linh_vuc = 'giao_thong'" in message and "dia_ban = 'huyen_x'" in message


def test_unique_with_two_matching_rows_is_an_incident(uow, services, publish, agencies) -> None:  # type: ignore[no-untyped-def]
    publish(files(dmn_xml(ROUTING_RULES, hit_policy="UNIQUE")))  # the default row overlaps every other
    instance_id = report(uow, services, agencies, "y_te", "huyen_x")
    with uow() as u:
        (incident,) = u.session.scalars(select(Incident).where(Incident.instance_id == instance_id))
        assert incident.element_id == "Task_PhanLoai"
        assert "nhiều dòng khớp (1, 5)" in incident.message and "FIRST" in incident.message


def test_a_changed_table_is_a_new_version_and_running_instances_keep_theirs(  # type: ignore[no-untyped-def]
        uow, services, publish, agencies) -> None:
    first, created = publish(files())
    assert (first.version, created) == (1, True)
    assert publish(files())[0].version == 1  # the same table: the same version
    with uow() as u:
        older = instances.start(u, services, agencies["cv_sttt"], "phan_luong_phan_anh").id
    rerouted = [(['"y_te"', "-"], ['"sttt"']), *ROUTING_RULES[1:]]
    second, created = publish(files(dmn_xml(rerouted)))
    assert (second.version, created) == (2, True)
    with uow() as u:
        stored = u.session.get(ProcedureVersion, first.id)
        assert "phan_luong" in stored.spec_json and "so_yt" in stored.spec_json  # the table is in the version
    # The instance started on version 1 is restored with version 1's table.
    (reception,) = ready_tasks(uow, older)
    with uow() as u:
        instances.complete_task(u, services, agencies["cv_sttt"], reception.id,
                                {"linh_vuc": "y_te", "dia_ban": "huyen_x"})
    (handling,) = ready_tasks(uow, older)
    with uow() as u:
        assert instances.task_data(u, services, instances.get_task(u, handling.id))["co_quan"] == "so_yt"
    newer = report(uow, services, agencies, "y_te", "huyen_x")
    (handling,) = ready_tasks(uow, newer)
    with uow() as u:
        assert instances.task_data(u, services, instances.get_task(u, handling.id))["co_quan"] == "sttt"


# ---------------------------------------------------------------- what a cell may hold (the runtime alone)


def decide(dmn: bytes, data: dict[str, Any], restore: bool = False) -> dict[str, Any]:
    """Run start → business rule task → end over `data`; the workflow's variables at the end."""
    bpmn = f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}" id="Definitions_1"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="quyet_dinh" isExecutable="true">
    <bpmn:startEvent id="StartEvent_BatDau"/>
    <bpmn:userTask id="Task_Nhap" name="Nhập" camunda:candidateGroups="sttt:chuyen_vien"/>
    <bpmn:businessRuleTask id="Task_QuyetDinh" name="Quyết định" camunda:decisionRef="phan_luong"/>
    <bpmn:endEvent id="EndEvent_KetThuc"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_BatDau" targetRef="Task_Nhap"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Nhap" targetRef="Task_QuyetDinh"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_QuyetDinh" targetRef="EndEvent_KetThuc"/>
  </bpmn:process>
</bpmn:definitions>'''.encode()
    (model,) = build_specs({"q.bpmn": parse_xml(bpmn)}, {"q.dmn": parse_xml(dmn)})
    runtime, bundle = Runtime(), spec_bundle(model)
    workflow = runtime.start(bundle, {})
    if restore:  # a fresh runtime: the spec comes back from the stored bundle, the state from storage
        runtime = Runtime()
        workflow = runtime.restore(bundle, Runtime.dump(workflow))
    (task,) = runtime.ready_human_tasks(workflow)
    runtime.complete(workflow, task.task_id, data)
    assert workflow.is_completed()
    return dict(workflow.data)


def one_column(entry: str) -> bytes:
    return dmn_xml([([entry], ['"khop"']), (["-"], ['"khong"'])], inputs=("gia_tri",), outputs=("ket_qua",))


@pytest.mark.parametrize(("entry", "matching", "other"), [
    ('"so_tc"', "so_tc", "so_yt"),                        # a value: equality
    ('"so_tc", "so_yt"', "so_yt", "sttt"),                # Camunda's list: one of
    ('in ("so_tc", "so_yt")', "so_tc", "sttt"),           # Python membership
    ('not in ("so_tc", "so_yt")', "sttt", "so_tc"),
    ('!= "so_tc"', "so_yt", "so_tc"),
    ("< 5", 4, 5),                                        # comparisons
    (">= 10", 10, 9),
    ("1 <= ? <= 5", 3, 6),                                # `?` is the input's value
    ('? in ("a", "b") or ? == "c"', "c", "d"),
    ("len(?) > 3", "dai qua", "ok"),
    ("-", "bat ky", None),                                # any value
    ("", "bat ky", None),
])
def test_input_entry_forms(entry: str, matching: Any, other: Any) -> None:
    assert decide(one_column(entry), {"gia_tri": matching})["ket_qua"] == "khop"
    if other is not None:
        assert decide(one_column(entry), {"gia_tri": other})["ket_qua"] == "khong"


def test_outputs_are_expressions_and_collect_gives_lists() -> None:
    rules = [(['"dat_dai"', "-"], ['"ubnd_" + dia_ban', "3"]), (["-", '"huyen_x"'], ['"so_tnmt"', "so_ngay * 2"])]
    first = dmn_xml(rules, outputs=("co_quan", "han"))
    assert decide(first, {"linh_vuc": "dat_dai", "dia_ban": "huyen_x", "so_ngay": 4})[
        "co_quan"] == "ubnd_huyen_x"
    collected = decide(dmn_xml(rules, hit_policy="COLLECT", outputs=("co_quan", "han")),
                       {"linh_vuc": "dat_dai", "dia_ban": "huyen_x", "so_ngay": 4})
    assert (collected["co_quan"], collected["han"]) == (["ubnd_huyen_x", "so_tnmt"], [3, 8])
    nothing = decide(dmn_xml(rules, hit_policy="COLLECT", outputs=("co_quan", "han")),
                     {"linh_vuc": "y_te", "dia_ban": "huyen_y", "so_ngay": 4})
    assert (nothing["co_quan"], nothing["han"]) == ([], [])


def test_a_restored_workflow_still_decides() -> None:
    assert decide(dmn_xml(ROUTING_RULES), {"linh_vuc": "dat_dai", "dia_ban": "huyen_x"},
                  restore=True)["co_quan"] == "ubnd_huyen_x"


def test_cells_run_in_the_sandbox() -> None:
    """A cell that gets past publishing still runs under RestrictedPython with its time budget."""
    slow = dmn_xml([(["?  in [i for i in range(10**6) for j in range(10**6)]"], ['"x"'])],
                   inputs=("gia_tri",), outputs=("ket_qua",))
    with pytest.raises(WorkflowError) as raised:
        decide(slow, {"gia_tri": 1})
    assert raised.value.element_id == "Task_QuyetDinh"
    assert "quá thời gian" in str(raised.value)
    broken = dmn_xml([(['"a"'], ["khong_co_bien"])], inputs=("gia_tri",), outputs=("ket_qua",))
    with pytest.raises(WorkflowError) as raised:
        decide(broken, {"gia_tri": "a"})
    assert "dòng 1" in str(raised.value) and "NameError" in str(raised.value)


# ---------------------------------------------------------------- publishing


def test_a_decision_ref_naming_no_decision_is_refused(publish, uow) -> None:  # type: ignore[no-untyped-def]
    problems = refusal(publish, uow, files(bpmn=routing_bpmn("phan_luong_cu")))
    problem = problem_at(problems, "Task_PhanLoai")
    assert problem.element_name == "Xác định cơ quan xử lý"
    assert "phan_luong_cu" in problem.message.vi and "phan_luong_cu" in problem.message.en
    problems = refusal(publish, uow, files(bpmn=routing_bpmn(None)))
    assert "decisionRef" in problem_at(problems, "Task_PhanLoai").message.en
    no_dmn = files()
    del no_dmn["phan_luong.dmn"]
    assert "no .dmn file" in problem_at(refusal(publish, uow, no_dmn), "Task_PhanLoai").message.en


@pytest.mark.parametrize(("rules", "words"), [
    ([(['date and time("2026-01-01T00:00:00")', "-"], ['"so_yt"'])], "date and time"),
    ([(['not("y_te")', "-"], ['"so_yt"'])], "not(…)"),
    ([(["[1..5]", "-"], ['"so_yt"'])], "[a..b]"),
    ([(['"y_te"', "-"], ["null"])], "true/false/null"),
    ([(['"y_te"', "-"], ['"${co_quan}"'.replace('"', "")])], "${…}"),
])
def test_feel_syntax_is_named_unsupported(publish, uow, rules, words) -> None:  # type: ignore[no-untyped-def]
    problem = problem_at(refusal(publish, uow, files(dmn_xml(rules))), "Task_PhanLoai")
    assert words in problem.message.vi and "FEEL" in problem.message.en and "dòng 1" in problem.message.vi


@pytest.mark.parametrize("rules", [
    [(['"y_te".__class__', "-"], ['"so_yt"'])],
    [(['? .__class__.__bases__', "-"], ['"so_yt"'])],
    [(['"y_te"', "-"], ['__import__("os").system("id")'])],
    [(['"y_te"', "-"], ["[c for c in ().__class__.__base__.__subclasses__()]"])],
])
def test_hostile_cells_are_refused_like_scripts(publish, uow, rules) -> None:  # type: ignore[no-untyped-def]
    problem = problem_at(refusal(publish, uow, files(dmn_xml(rules))), "Task_PhanLoai")
    assert "không hợp lệ" in problem.message.vi and 'starts with "_"' in problem.message.en


def test_a_hostile_input_expression_is_refused(publish, uow) -> None:  # type: ignore[no-untyped-def]
    dmn = dmn_xml(ROUTING_RULES).replace(b"<text>linh_vuc</text>", b"<text>linh_vuc.__class__</text>")
    problem = problem_at(refusal(publish, uow, files(dmn)), "Task_PhanLoai")
    assert "cột điều kiện 1" in problem.message.vi


@pytest.mark.parametrize(("hit_policy", "attrs", "words"), [
    ("ANY", "", "ANY"),
    ("PRIORITY", "", "PRIORITY"),
    ("RULE ORDER", "", "RULE ORDER"),
    ("COLLECT", ' aggregation="SUM"', "SUM"),
])
def test_unsupported_hit_policies_are_named(publish, uow, hit_policy, attrs, words) -> None:  # type: ignore[no-untyped-def]
    problem = problem_at(refusal(publish, uow, files(dmn_xml(ROUTING_RULES, hit_policy=hit_policy,
                                                                 table_attrs=attrs))), "Task_PhanLoai")
    assert words in problem.message.vi and words in problem.message.en


def test_dmn_goes_through_the_hardened_parser(publish, uow) -> None:  # type: ignore[no-untyped-def]
    hostile = dmn_xml(ROUTING_RULES).replace(b"<definitions", b'<!DOCTYPE d [<!ENTITY x "y">]><definitions', 1)
    problem = problem_at(refusal(publish, uow, files(hostile)), "phan_luong.dmn")
    assert "DOCTYPE" in problem.message.vi
    two = dmn_xml(ROUTING_RULES, extra='<decision id="khac" name="Khác"><decisionTable id="T2"/></decision>')
    problem = problem_at(refusal(publish, uow, files(two)), "phan_luong.dmn")
    assert "đúng một quyết định" in problem.message.vi


def test_an_output_without_a_variable_name_is_refused(publish, uow) -> None:  # type: ignore[no-untyped-def]
    dmn = dmn_xml(ROUTING_RULES).replace(b' name="co_quan"', b"")
    problem = problem_at(refusal(publish, uow, files(dmn)), "Task_PhanLoai")
    assert "Output name" in problem.message.en


def test_bundled_procedures_take_only_the_tables_they_name(tmp_path: Path) -> None:
    (tmp_path / "a.bpmn").write_bytes(routing_bpmn("phan_luong", "a"))
    (tmp_path / "b.bpmn").write_bytes(routing_bpmn("khac", "b"))
    (tmp_path / "c.bpmn").write_bytes(routing_bpmn(None, "c").replace(b"businessRuleTask", b"task"))
    (tmp_path / "phan_luong.dmn").write_bytes(dmn_xml(ROUTING_RULES))
    (tmp_path / "khac.dmn").write_bytes(dmn_xml(ROUTING_RULES, decision="khac"))
    (tmp_path / "hong.dmn").write_bytes(b"<definitions")
    sets = {next(n for n in s if n.endswith(".bpmn")): set(s) for s in publishing.bundled_procedures(tmp_path)}
    assert sets == {"a.bpmn": {"a.bpmn", "phan_luong.dmn"}, "b.bpmn": {"b.bpmn", "khac.dmn"}, "c.bpmn": {"c.bpmn"}}
    (tmp_path / "khac.dmn").unlink()  # b names a decision no readable file holds: the broken file goes with it
    sets = {next(n for n in s if n.endswith(".bpmn")): set(s) for s in publishing.bundled_procedures(tmp_path)}
    assert sets["b.bpmn"] == {"b.bpmn", "hong.dmn"}
