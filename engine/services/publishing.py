"""Publishing: validate a procedure's files and store an immutable, numbered version."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from sqlalchemy import func, select

from engine import forms as form_checks
from engine.bpmn.decisions import PlatformBusinessRuleTask, cell_problem, table_problems
from engine.bpmn.parser import ExternalServiceTask, XmlRefused, build_specs, parse_xml
from engine.bpmn.runtime import ASSIGNEE_VARIABLE, GROUP_VARIABLE, spec_bundle
from engine.bpmn.sandbox import check_expression, check_script
from engine.bpmn.variables import TIME_SCRIPTS_PROPERTY, time_scripts
from engine.documents.issuer import TOPIC as DOCUMENT_TOPIC
from engine.documents.issuer import property_problems
from engine.documents.templates import check_template, valid_name
from engine.domain.enums import Role
from engine.domain.errors import PublishRefused
from engine.domain.messages import Message
from engine.forms import rules as form_rules
from engine.persistence.models import ProcedureFile, ProcedureVersion, User
from engine.persistence.uow import UnitOfWork
from engine.services import audit, schedules

FORM_PREFIX = "camunda-forms:deployment:"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
# SpiffWorkflow names its own start and end tasks so; a BPMN element with one of these ids
# silently replaces them and the process never runs.
RESERVED_IDS = frozenset({"Start", "End", "Root"})
#: What a procedure version is published from: diagrams, decision tables, forms, DOCX document templates.
FILE_SUFFIXES = (".bpmn", ".dmn", ".form", ".docx")
UNSUPPORTED_ATTRS = ("class", "delegateExpression", "expression", "resultVariable")


@dataclass(frozen=True)
class Problem:
    """One reason a procedure cannot be published."""

    element_id: str
    element_name: str
    message: Message

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "element_name": self.element_name,
                "message": self.message.as_dict()}


class _Templates:
    """The DOCX templates document steps may name: uploaded with the version, else bundled.

    Each is read and checked once however many steps use it.
    """

    def __init__(self, files: Mapping[str, bytes], folder: Path | None, max_bytes: int) -> None:
        self.uploaded = {name: content for name, content in files.items() if name.endswith(".docx")}
        self.folder = folder
        self.max_bytes = max_bytes
        self._checked: dict[str, tuple[bytes | None, list[Message]]] = {}

    def _read(self, name: str) -> tuple[bytes | None, list[Message]]:
        content = self.uploaded.get(name)
        if content is None:
            # The installation's own folder: read as is, `check_template` refuses one too large.
            path = self.folder / name if self.folder is not None else None
            if path is None or not path.is_file():
                return None, []
            content = path.read_bytes()
        return content, check_template(content, self.max_bytes)

    def get(self, name: str) -> tuple[bytes | None, list[Message]]:
        """The template's bytes (None when not found) and the reasons it cannot be used."""
        if name not in self._checked:
            self._checked[name] = self._read(name)
        return self._checked[name]


def form_name(form_key: str) -> str:
    name = form_key[len(FORM_PREFIX):] if form_key.startswith(FORM_PREFIX) else form_key
    return name[:-5] if name.endswith(".form") else name


class _Checker:
    """Collects problems over every task spec of a parsed procedure."""

    def __init__(self, forms: Mapping[str, dict[str, Any]], topics: Iterable[str],
                 templates: _Templates) -> None:
        self.forms = forms
        self.topics = set(topics)
        self.templates = templates
        self.problems: list[Problem] = []
        self.used_forms: dict[str, dict[str, Any]] = {}
        self.used_templates: dict[str, bytes] = {}
        self.checked_tables: set[int] = set()

    def add(self, spec: Any, vi: str, en: str) -> None:
        self.problems.append(Problem(spec.bpmn_id or spec.name, spec.bpmn_name or "", Message(vi, en)))

    def expression(self, spec: Any, source: str | None, what_vi: str, what_en: str) -> None:
        if not source:
            return
        if "${" in source or "#{" in source:
            self.add(spec, f"{what_vi}: biểu thức JUEL/FEEL không được hỗ trợ, hãy dùng biểu thức Python",
                     f"{what_en}: JUEL/FEEL expressions are not supported, use a Python expression")
            return
        reason = check_expression(source)
        if reason:
            self.add(spec, f"{what_vi} không hợp lệ: {reason}", f"Invalid {what_en}: {reason}")

    def check(self, spec: Any) -> None:
        camunda = (getattr(spec, "extensions", None) or {}).get("camunda", {})
        for attr in UNSUPPORTED_ATTRS:
            if attr in camunda:
                self.add(spec, f"camunda:{attr} (Java delegate/biểu thức) không được hỗ trợ; "
                               "dùng camunda:type=\"external\" và camunda:topic",
                         f"camunda:{attr} (Java delegates/expressions) is not supported; "
                         "use camunda:type=\"external\" with camunda:topic")
        if isinstance(spec, PlatformBusinessRuleTask):
            self.business_rule_task(spec)
        if isinstance(spec, UserTask):
            self.user_task(spec, camunda)
        elif isinstance(spec, ExternalServiceTask):
            self.service_task(spec, camunda)
        elif hasattr(spec, "script") and spec.script is not None:
            reason = check_script(spec.script)
            if reason:
                self.add(spec, f"Kịch bản không hợp lệ: {reason}", f"Invalid script: {reason}")
        if isinstance(spec, MultiChoice):
            for condition, _target in spec.cond_task_specs:
                # Spiff wraps each flow's condition in an operator holding the source text;
                # the default flow has none.
                source = condition.args[0] if condition is not None else None
                self.expression(spec, source, "Điều kiện rẽ nhánh", "gateway condition")
        if isinstance(spec, MultiInstanceTask):
            self.expression(spec, spec.condition, "Điều kiện hoàn thành", "completion condition")
        definition = getattr(spec, "event_definition", None)
        for timer in [definition, *getattr(definition, "event_definitions", [])]:
            if isinstance(timer, TimerEventDefinition):
                # A Python expression: an ISO-8601 text must be quoted ("PT2H"), a datetime may be returned.
                self.expression(spec, timer.expression,
                                "Hẹn giờ (biểu thức Python, chuỗi ISO-8601 đặt trong ngoặc kép)",
                                "timer (a Python expression; quote ISO-8601 text)")

    def business_rule_task(self, spec: Any) -> None:
        """Its decision table's hit policy and every cell, checked in the sandbox (engine/bpmn/decisions.py)."""
        table = spec.dmnEngine.decision_table
        if id(table) in self.checked_tables:
            return
        self.checked_tables.add(id(table))
        for message in table_problems(table):
            self.add(spec, message.vi, message.en)

    def user_task(self, spec: Any, camunda: dict[str, str]) -> None:
        lane = spec.extensions.get("lane_properties", {})
        groups = camunda.get("candidateGroups") or lane.get("candidateGroups")
        users = camunda.get("candidateUsers") or camunda.get("assignee")
        if not groups and not users:
            self.add(spec, "Công việc chưa có người thực hiện "
                           "(camunda:candidateGroups hoặc thuộc tính candidateGroups của lane)",
                     "The task has no performer (camunda:candidateGroups or the lane's candidateGroups property)")
        self.assignee(spec, (camunda.get("assignee") or "").strip(), bool(groups))
        for group in (groups or "").split(","):
            role = group.strip().rpartition(":")[2]
            if group.strip() and role not in {r.value for r in Role}:
                self.add(spec, f"Nhóm thực hiện \"{group.strip()}\" có vai trò không tồn tại",
                         f"Candidate group \"{group.strip()}\" names an unknown role")
            unit = group.strip().rpartition(":")[0]
            if ("${" in unit or "#{" in unit) and not GROUP_VARIABLE.match(group.strip()):
                self.add(spec, f"Nhóm thực hiện \"{group.strip()}\": đơn vị lấy từ biến viết ${{tên_biến}}:vai_trò "
                               "(biến chứa mã đơn vị), không nhận biểu thức",
                         f"Candidate group \"{group.strip()}\": a unit read from a variable is written "
                         "${variable}:role (a variable holding a unit code), not an expression")
        self.expression(spec, camunda.get("dueDate"), "Hạn xử lý (camunda:dueDate)", "due date (camunda:dueDate)")
        clock = (spec.extensions.get("properties") or {}).get("clock")
        if clock is not None and clock != "pause":
            self.add(spec, f"Thuộc tính clock=\"{clock}\" không hợp lệ; chỉ dùng clock=\"pause\" (tạm dừng tính hạn)",
                     f"Property clock=\"{clock}\" is not valid; only clock=\"pause\" (stop the clock) is known")
        key = camunda.get("formKey")
        if not key:
            self.add(spec, "Công việc chưa có biểu mẫu (camunda:formKey)", "The task has no form (camunda:formKey)")
            return
        name = form_name(key)
        if name not in self.forms:
            self.add(spec, f"Không tìm thấy biểu mẫu {name}.form", f"Form {name}.form not found")
            return
        for problem in [*form_checks.check_schema(self.forms[name]), *form_rules.rule_problems(self.forms[name])]:
            self.add(spec, f"Biểu mẫu {name}: {problem.vi}", f"Form {name}: {problem.en}")
        self.used_forms[name] = self.forms[name]

    def assignee(self, spec: Any, assignee: str, has_groups: bool) -> None:
        """`camunda:assignee` is a username or `${variable}` (a plain name); the latter needs candidate
        groups, who keep the task when the variable names nobody."""
        if "${" not in assignee and "#{" not in assignee:
            return
        if not ASSIGNEE_VARIABLE.match(assignee):
            self.add(spec, f"camunda:assignee=\"{assignee}\": chỉ nhận tên đăng nhập hoặc ${{tên_biến}} "
                           "(biến chứa tên đăng nhập), không nhận biểu thức",
                     f"camunda:assignee=\"{assignee}\": write a username or ${{variable}} (a variable holding "
                     "a username), not an expression")
        elif not has_groups:
            self.add(spec, "Công việc giao theo biến (camunda:assignee=\"${…}\") cần camunda:candidateGroups: "
                           "nhóm nhận công việc khi biến không chỉ ra người dùng có thật",
                     "A task assigned by a variable (camunda:assignee=\"${…}\") needs camunda:candidateGroups, "
                     "who get the task when the variable names no existing user")

    def process(self, model: Any) -> None:
        """The process element's own properties: `deadline` is an expression, like a due date."""
        element = SimpleNamespace(bpmn_id=model.process_id, name=model.process_id, bpmn_name=model.name)
        self.expression(element, model.properties.get("deadline"), "Thời hạn giải quyết (thuộc tính deadline)",
                        "process deadline (deadline property)")
        self.time_scripts(element, model)

    def time_scripts(self, element: Any, model: Any) -> None:
        """`meeting_time_scripts` names script tasks of the procedure: a postponement runs their code again."""
        if TIME_SCRIPTS_PROPERTY not in model.properties:
            return
        named = time_scripts(model.properties)
        if not named:
            self.add(element, f"Thuộc tính {TIME_SCRIPTS_PROPERTY} không nêu công việc kịch bản nào "
                              "(mã các scriptTask, cách nhau bởi dấu phẩy)",
                     f"Property {TIME_SCRIPTS_PROPERTY} names no script task "
                     "(the scriptTasks' ids, separated by commas)")
            return
        specs = {s.bpmn_id: s for process in (model.spec, *model.subprocess_specs.values())
                 for s in process.task_specs.values() if getattr(s, "bpmn_id", None)}
        for element_id in named:
            spec = specs.get(element_id)
            if spec is None:
                self.add(element, f"Thuộc tính {TIME_SCRIPTS_PROPERTY}: quy trình không có phần tử \"{element_id}\"",
                         f"Property {TIME_SCRIPTS_PROPERTY}: the procedure has no element \"{element_id}\"")
            elif not isinstance(spec, ScriptTask):
                name = f" ({spec.bpmn_name})" if spec.bpmn_name else ""
                self.add(element, f"Thuộc tính {TIME_SCRIPTS_PROPERTY}: \"{element_id}\"{name} không phải công việc "
                                  "kịch bản (scriptTask); chỉ nêu các kịch bản tính giá trị từ thời gian họp",
                         f"Property {TIME_SCRIPTS_PROPERTY}: \"{element_id}\"{name} is not a script task "
                         "(scriptTask); name only the scripts that compute values from the meeting's time")

    def service_task(self, spec: Any, camunda: dict[str, str]) -> None:
        if camunda.get("type") != "external":
            self.add(spec, "Công việc dịch vụ phải có camunda:type=\"external\" và camunda:topic",
                     "Service tasks need camunda:type=\"external\" and camunda:topic")
        elif camunda.get("topic") not in self.topics:
            self.add(spec, f"Chủ đề \"{camunda.get('topic')}\" không có bộ kết nối đã đăng ký",
                     f"Topic \"{camunda.get('topic')}\" has no registered adapter")
        if camunda.get("topic") == DOCUMENT_TOPIC:
            self.document_task(spec, spec.extensions.get("properties") or {})

    def document_task(self, spec: Any, properties: Mapping[str, str]) -> None:
        """A document step names its template, issuer, type and symbol; the template must be usable."""
        for message in property_problems(properties):
            self.add(spec, message.vi, message.en)
        name = str(properties.get("template") or "").strip()
        if not name or not valid_name(name):
            return
        content, problems = self.templates.get(name)
        if content is None and not problems:
            self.add(spec, f"Không tìm thấy mẫu văn bản {name}: tải tệp lên cùng quy trình "
                           "hoặc đặt trong thư mục mẫu (processes/templates/)",
                     f"Template {name} not found: upload it with the procedure "
                     "or put it in the templates folder (processes/templates/)")
        for message in problems:
            self.add(spec, f"Mẫu văn bản {name}: {message.vi}", f"Template {name}: {message.en}")
        if content is not None and not problems:
            self.used_templates[name] = content


def _file_problem(name: str, vi: str, en: str) -> Problem:
    return Problem(name, "", Message(vi, en))


def _load_forms(files: Mapping[str, bytes], forms_dir: Path | None,
                problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """Bundled forms, overridden by uploaded ones."""
    found: dict[str, dict[str, Any]] = {}
    if forms_dir is not None and forms_dir.is_dir():
        for path in sorted(forms_dir.glob("*.form")):
            try:
                found[path.stem] = form_checks.load_form(path)
            except form_checks.FormSchemaError as exc:
                problems.append(_file_problem(path.name, f"Biểu mẫu hỏng: {exc}", f"Broken form: {exc}"))
    for name, content in files.items():
        if not name.endswith(".form"):
            continue
        try:
            data = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            problems.append(_file_problem(name, f"Biểu mẫu không phải JSON hợp lệ: {exc}",
                                          f"The form is not valid JSON: {exc}"))
            continue
        if not isinstance(data, dict):
            problems.append(_file_problem(name, "Biểu mẫu phải là một đối tượng JSON", "A form must be a JSON object"))
            continue
        found[Path(name).stem] = data
    return found


def _local(node: Any) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def decision_refs(tree: etree._ElementTree) -> list[tuple[Any, str]]:
    """(businessRuleTask element, its camunda:decisionRef) for every business rule task of a diagram."""
    return [(node, (node.get(f"{{{CAMUNDA_NS}}}decisionRef") or "").strip())
            for node in tree.getroot().iter(f"{{{BPMN_NS}}}businessRuleTask")]


def decision_ids(tree: etree._ElementTree) -> list[str]:
    """The ids of the decisions a DMN file holds."""
    return [node.get("id") or "" for node in tree.getroot() if _local(node) == "decision"]


def _output_cells(decision: Any, table: Any) -> list[Message]:
    """Output cells SpiffWorkflow could not even parse: FEEL/JUEL notation, Python syntax errors."""
    label = table.get("name") or decision.get("name") or decision.get("id") or ""
    names = [o.get("label") or o.get("name") or o.get("id") for o in table if _local(o) == "output"]
    found = []
    for row, rule in enumerate((r for r in table if _local(r) == "rule"), start=1):
        for column, entry in enumerate(e for e in rule if _local(e) == "outputEntry"):
            text = "".join(t.text or "" for t in entry if _local(t) == "text").strip()
            name = names[column] if column < len(names) else str(column + 1)
            problem = cell_problem(label, text, text, f"dòng {row}, kết quả «{name}»", f"row {row}, output «{name}»")
            if text and problem is not None:
                found.append(problem)
    return found


def _decision_problems(bpmn: Mapping[str, etree._ElementTree], dmn: Mapping[str, etree._ElementTree],
                       problems: list[Problem]) -> dict[str, etree._ElementTree]:
    """Every decisionRef names a decision of exactly one .dmn file holding one decision table the platform
    runs; returns the .dmn files the diagram uses (the others of the upload are left out)."""
    owners: dict[str, list[str]] = {}
    for name, tree in dmn.items():
        ids = decision_ids(tree)
        if len(ids) != 1:
            problems.append(_file_problem(
                name, f"Tệp bảng quyết định phải có đúng một quyết định (decision), tệp này có {len(ids)}",
                f"A decision file must hold exactly one decision, this one holds {len(ids)}"))
            continue
        owners.setdefault(ids[0], []).append(name)
    used: dict[str, etree._ElementTree] = {}
    for tree in bpmn.values():
        for node, ref in decision_refs(tree):
            where = (node.get("id") or "", node.get("name") or "")
            if not ref:
                problems.append(Problem(*where, Message(
                    "Công việc quy tắc nghiệp vụ (businessRuleTask) chưa nêu bảng quyết định "
                    "(camunda:decisionRef = mã quyết định trong tệp .dmn)",
                    "The business rule task names no decision table "
                    "(camunda:decisionRef = the decision's id in a .dmn file)")))
                continue
            found = owners.get(ref, [])
            if not found:
                problems.append(Problem(*where, Message(
                    f"camunda:decisionRef=\"{ref}\": không có tệp .dmn nào chứa quyết định mã \"{ref}\" "
                    "trong bộ tệp công bố",
                    f"camunda:decisionRef=\"{ref}\": no .dmn file of the publication holds a decision "
                    f"with id \"{ref}\"")))
                continue
            if len(found) > 1:
                problems.append(Problem(*where, Message(
                    f"Quyết định \"{ref}\" có trong nhiều tệp: {', '.join(sorted(found))}",
                    f"Decision \"{ref}\" is in several files: {', '.join(sorted(found))}")))
                continue
            used[found[0]] = dmn[found[0]]
            decision = next(n for n in dmn[found[0]].getroot() if _local(n) == "decision")
            tables = [n for n in decision if _local(n) == "decisionTable"]
            if len(tables) != 1:
                problems.append(Problem(*where, Message(
                    f"Quyết định \"{ref}\" ({found[0]}) phải là một bảng quyết định (decision table)",
                    f"Decision \"{ref}\" ({found[0]}) must be one decision table")))
            else:
                problems.extend(Problem(*where, message) for message in _output_cells(decision, tables[0]))
            if len(tables) == 1 and tables[0].get("aggregation"):
                problems.append(Problem(*where, Message(
                    f"Bảng quyết định \"{ref}\": gộp kết quả {tables[0].get('aggregation')} (COLLECT) không được "
                    "hỗ trợ; bỏ gộp, mỗi kết quả là một danh sách",
                    f"Decision table \"{ref}\": aggregation {tables[0].get('aggregation')} (COLLECT) is not "
                    "supported; remove it, each output is then a list")))
    return used


def _parse_models(files: Mapping[str, bytes], problems: list[Problem], used_dmn: dict[str, bytes]) -> list[Any]:
    """The diagram's process specs (with the decision tables it uses, put into `used_dmn`)."""
    bpmn: dict[str, etree._ElementTree] = {}
    dmn: dict[str, etree._ElementTree] = {}
    for name, content in files.items():
        if not name.endswith((".bpmn", ".dmn")):
            continue
        try:
            (bpmn if name.endswith(".bpmn") else dmn)[name] = parse_xml(content)
        except XmlRefused as exc:
            problems.append(Problem(name, "", exc.message))
    if problems:
        return []
    if len(bpmn) != 1:
        problems.append(_file_problem("", "Cần đúng một tệp .bpmn cho mỗi lần công bố",
                                      "Exactly one .bpmn file is needed per publication"))
        return []
    for tree in bpmn.values():
        for node in tree.iter():
            if node.get("id") in RESERVED_IDS:
                problems.append(Problem(node.get("id"), node.get("name") or "", Message(
                    f"Mã phần tử \"{node.get('id')}\" trùng tên dành riêng của bộ máy quy trình; hãy đổi mã",
                    f"Element id \"{node.get('id')}\" is reserved by the engine; rename it")))
    if problems:
        return []
    dmn = _decision_problems(bpmn, dmn, problems)
    if problems:
        return []
    used_dmn.update({name: files[name] for name in sorted(dmn)})
    try:
        models = build_specs(bpmn, dmn)
    except SpiffWorkflowException as exc:
        node = getattr(exc, "id", None) or getattr(exc, "file_name", "") or ""
        problems.append(Problem(str(node), str(getattr(exc, "name", "") or ""),
                                Message(f"Sơ đồ không hợp lệ: {exc}", f"Invalid diagram: {exc}")))
        return []
    if len(models) != 1:
        problems.append(_file_problem(next(iter(bpmn)), "Tệp phải có đúng một quy trình isExecutable=\"true\"",
                                      "The file must hold exactly one process with isExecutable=\"true\""))
        return []
    return models


@dataclass
class Checked:
    """The outcome of every publishing check: the parsed model and what it uses, or the problems."""

    model: Any
    forms: dict[str, dict[str, Any]]
    #: DOCX templates the document steps use, by file name.
    templates: dict[str, bytes]
    problems: list[Problem]
    #: The .dmn files its business rule tasks use, by file name.
    decisions: dict[str, bytes] = field(default_factory=dict)


def check(files: Mapping[str, bytes], forms_dir: Path | None, topics: Iterable[str], max_bytes: int,
          templates_dir: Path | None = None) -> Checked:
    """Every publishing check, without touching the database.

    Templates named by document steps come from the uploaded `.docx` files, else `templates_dir`.
    """
    problems: list[Problem] = []
    for name, content in files.items():
        if not name.endswith(FILE_SUFFIXES):
            problems.append(_file_problem(name, "Chỉ nhận tệp .bpmn, .dmn, .form và mẫu văn bản .docx",
                                          "Only .bpmn, .dmn, .form files and .docx document templates are accepted"))
        elif len(content) > max_bytes:
            problems.append(_file_problem(name, f"Tệp vượt quá {max_bytes // 1024} KB",
                                          f"The file exceeds {max_bytes // 1024} KB"))
    if problems:
        return Checked(None, {}, {}, problems)
    available = _load_forms(files, forms_dir, problems)
    decisions: dict[str, bytes] = {}
    models = _parse_models(files, problems, decisions)
    if not models:
        return Checked(None, {}, {}, problems)
    model = models[0]
    checker = _Checker(available, topics, _Templates(files, templates_dir, max_bytes))
    for spec in [*model.spec.task_specs.values(),
                 *(s for sub in model.subprocess_specs.values() for s in sub.task_specs.values())]:
        checker.check(spec)
    checker.process(model)
    return Checked(model, checker.used_forms, checker.used_templates, problems + checker.problems, decisions)


def content_hash(bpmn: bytes, used_forms: Mapping[str, Any], templates: Mapping[str, bytes] | None = None,
                 decisions: Mapping[str, bytes] | None = None) -> str:
    """SHA-256 of what a version runs: the diagram, its forms, its templates and its decision tables (a
    changed template or table is a new version). Without templates and tables the hash is the one
    earlier versions got."""
    digest = hashlib.sha256(bpmn)
    digest.update(json.dumps(used_forms, sort_keys=True, ensure_ascii=False).encode())
    if templates:
        sums = {name: hashlib.sha256(content).hexdigest() for name, content in templates.items()}
        digest.update(json.dumps(sums, sort_keys=True).encode())
    if decisions:
        sums = {name: hashlib.sha256(content).hexdigest() for name, content in decisions.items()}
        digest.update(b"dmn" + json.dumps(sums, sort_keys=True).encode())
    return digest.hexdigest()


def publish(uow: UnitOfWork, files: Mapping[str, bytes], actor: User | None, *,
            forms_dir: Path | None, topics: Iterable[str], max_bytes: int,
            templates_dir: Path | None = None) -> tuple[ProcedureVersion, bool]:
    """Store a new version, or return the newest one unchanged when the content is identical.

    The DOCX templates its document steps use are stored with it (`ProcedureFile`). Raises
    PublishRefused with the problems; nothing is stored then.
    """
    checked = check(files, forms_dir, topics, max_bytes, templates_dir)
    model, used_forms, problems = checked.model, checked.forms, checked.problems
    if model is not None:
        problems += [Problem(model.process_id, model.name, m) for m in schedules.problems(uow, model, actor)]
    if problems:
        raise PublishRefused(Message("Quy trình chưa đạt yêu cầu để công bố.",
                                     "The procedure is not ready to publish."), problems)
    bpmn_name, bpmn = next((n, c) for n, c in files.items() if n.endswith(".bpmn"))
    digest = content_hash(bpmn, used_forms, checked.templates, checked.decisions)
    session = uow.session
    latest = session.scalar(select(ProcedureVersion).where(ProcedureVersion.process_id == model.process_id)
                            .order_by(ProcedureVersion.version.desc()).limit(1))
    if latest is not None and latest.content_hash == digest:
        return latest, False
    number = (session.scalar(select(func.max(ProcedureVersion.version))
                             .where(ProcedureVersion.process_id == model.process_id)) or 0) + 1
    version = ProcedureVersion(
        process_id=model.process_id, version=number, name=model.name, content_hash=digest,
        bpmn_xml=bpmn.decode("utf-8"), forms=used_forms, spec_json=spec_bundle(model),
        properties=model.properties or None,
        published_by=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    for name, content in sorted(checked.templates.items()):
        session.add(ProcedureFile(version_id=version.id, name=name, content=content,
                                  sha256=hashlib.sha256(content).hexdigest()))
    schedules.register(uow, version, model, actor)
    audit.record(session, actor, "publish", summary=f"{model.process_id} v{number} ({bpmn_name})",
                 after={"process_id": model.process_id, "version": number, "hash": digest})
    uow.commit()
    return version, True


def bundled_procedures(processes_dir: Path) -> list[dict[str, bytes]]:
    """One file set per bundled .bpmn, with the .dmn files beside it whose decisions its business rule
    tasks name (camunda:decisionRef → decision id). A .dmn file that cannot be read goes with every
    diagram naming a decision no readable file holds, so that publishing shows why."""
    by_decision: dict[str, dict[str, bytes]] = {}
    unreadable: dict[str, bytes] = {}
    for path in sorted(processes_dir.glob("*.dmn")):
        content = path.read_bytes()
        try:
            ids = decision_ids(parse_xml(content))
        except XmlRefused:
            unreadable[path.name] = content
            continue
        for decision in ids:
            by_decision.setdefault(decision, {})[path.name] = content
    sets = []
    for path in sorted(processes_dir.glob("*.bpmn")):
        content = path.read_bytes()
        files = {path.name: content}
        try:
            refs = [ref for _node, ref in decision_refs(parse_xml(content))]
        except XmlRefused:
            refs = []
        for ref in refs:
            files.update(by_decision.get(ref, unreadable))
        sets.append(files)
    return sets
