"""DMN decision tables run by business rule tasks, with Python (never FEEL/JUEL) cells.

SpiffWorkflow parses the table (one decision with one decision table per .dmn file) and evaluates
every cell through the workflow's script engine, i.e. the platform's sandbox. This module adds:

- `normalize_entry`: what an input entry (a cell under an input column) may be written as, made into
  the form SpiffWorkflow's DMNEngine evaluates (`"a"`, `"a", "b"`, `< 5`, `in ("a", "b")`, `1 <= ? <= 5`,
  `-` or empty for any value);
- `PlatformBusinessRuleTask`: hit policies UNIQUE (exactly one row matches), FIRST (the first row that
  matches, in order) and COLLECT (every matching row; each output becomes a list); no matching row under
  UNIQUE/FIRST, or several under UNIQUE, stops the instance with an incident naming the table;
- `table_problems`: the publishing checks of a table's cells (docs/modeling.md "Decision tables (DMN)").
"""
from __future__ import annotations

import ast
import re
from typing import Any

from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.deep_merge import DeepMerge

from engine.bpmn.sandbox import SandboxError, check_expression
from engine.domain.messages import Message

#: The hit policies the platform runs (DMN's others, and COLLECT with an aggregation, are refused).
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")

#: SpiffWorkflow replaces a `?` outside quotes with this name, bound to the input's value.
_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_STRINGS = re.compile(r"\"[^\"]*\"|'[^']*'")
#: FEEL/JUEL notations an analyst used to Camunda might write; each is named when publishing.
_FEEL = (
    (re.compile(r"\bdate\s+and\s+time\s*\("), "date and time(…)"),
    (re.compile(r"\b(?:duration|years\s+and\s+months\s+duration)\s*\("), "duration(…)"),
    (re.compile(r"\.\."), "khoảng [a..b] / range [a..b]"),
    (re.compile(r"^\s*not\s*\("), "not(…)"),
    (re.compile(r"\$\{|#\{"), "${…}"),
    (re.compile(r"\b(?:true|false|null)\b"), "true/false/null"),
)


class DecisionError(SandboxError):
    """A decision table could not decide (no row, several rows under UNIQUE, a failing cell)."""

    def __init__(self, message: str, task: Any = None) -> None:
        super().__init__(message)
        self.task = task


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def normalize_entry(text: str | None) -> str | None:
    """An input entry as SpiffWorkflow's DMNEngine evaluates it; None matches any value.

    `-` and an empty cell match anything; `"a", "b"` (Camunda's list notation) becomes `in ("a", "b")`;
    a cell starting with an operator (`< 5`, `in (…)`, `not in (…)`, `!= "x"`) is put after the input
    expression; a cell with `?` is a condition on the input's value; anything else is compared with `==`.
    """
    if text is None or not text.strip() or text.strip() == "-":
        return None
    stripped = text.strip()
    if _QUESTION.search(stripped):
        return stripped
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError:
        # An operator first: DMNEngine appends the cell to the input expression as written.
        return " " + stripped
    if isinstance(tree.body, ast.Tuple) and not stripped.startswith("("):
        return f" in ({stripped})"
    return stripped


def entry_condition(input_expression: str, entry: str) -> str:
    """The Python condition DMNEngine evaluates for one cell (as `normalize_entry` left it)."""
    if _QUESTION.search(entry):
        return _QUESTION.sub("dmninputexpr", entry)
    if _parses(entry):
        return f"({input_expression}) == ({entry})"
    return input_expression + entry


def feel_notation(text: str) -> str | None:
    """The FEEL/JUEL notation `text` uses (outside quoted text), None when it has none."""
    bare = _STRINGS.sub('""', text)
    for pattern, name in _FEEL:
        if pattern.search(bare):
            return name
    return None


def table_label(table: Any) -> str:
    return table.name or table.id


def cell_problem(label: str, text: str, compiled: str, where_vi: str, where_en: str) -> Message | None:
    """Why one cell cannot run: FEEL/JUEL notation, or `compiled` (its Python condition) refused by the sandbox."""
    notation = feel_notation(text)
    if notation:
        return Message(
            f"Bảng quyết định «{label}», {where_vi}: cú pháp FEEL/JUEL {notation} không được hỗ trợ, "
            f"hãy viết biểu thức Python: {text}",
            f"Decision table «{label}», {where_en}: FEEL/JUEL syntax {notation} is not supported, "
            f"write a Python expression: {text}")
    reason = check_expression(compiled)
    if reason:
        return Message(f"Bảng quyết định «{label}», {where_vi}: biểu thức không hợp lệ ({text}): {reason}",
                       f"Decision table «{label}», {where_en}: invalid expression ({text}): {reason}")
    return None


def table_problems(table: Any) -> list[Message]:
    """Why a parsed decision table cannot run: hit policy, and every cell checked in the sandbox."""
    label = table_label(table)
    problems: list[Message] = []

    def cell(text: str, compiled: str, where_vi: str, where_en: str) -> None:
        problem = cell_problem(label, text, compiled, where_vi, where_en)
        if problem is not None:
            problems.append(problem)

    policy = (table.hit_policy or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        problems.append(Message(
            f"Bảng quyết định «{label}»: chính sách {policy} không được hỗ trợ; dùng UNIQUE, FIRST hoặc COLLECT",
            f"Decision table «{label}»: hit policy {policy} is not supported; use UNIQUE, FIRST or COLLECT"))
    if not table.outputs:
        problems.append(Message(f"Bảng quyết định «{label}» không có cột kết quả (output)",
                                f"Decision table «{label}» has no output column"))
    for output in table.outputs:
        if not output.name:
            problems.append(Message(
                f"Bảng quyết định «{label}»: cột kết quả «{output.label or output.id}» chưa có tên biến "
                "(Output name)",
                f"Decision table «{label}»: output column «{output.label or output.id}» has no variable name "
                "(Output name)"))
    inputs_ok = True
    for index, column in enumerate(table.inputs, start=1):
        name = column.label or column.id
        if not (column.expression or "").strip():
            inputs_ok = False
            problems.append(Message(f"Bảng quyết định «{label}»: cột điều kiện «{name}» chưa có biểu thức đầu vào",
                                    f"Decision table «{label}»: input column «{name}» has no input expression"))
            continue
        before = len(problems)
        cell(column.expression, column.expression, f"cột điều kiện {index} «{name}»", f"input column {index} «{name}»")
        inputs_ok = inputs_ok and len(problems) == before
    for rule in table.rules:
        for entry in rule.inputEntries:
            for lhs in entry.lhs:
                if lhs is None or not inputs_ok:
                    continue
                name = entry.input.label or entry.input.id
                cell(lhs.strip(), entry_condition(entry.input.expression, lhs),
                     f"dòng {rule.row_number}, cột «{name}»", f"row {rule.row_number}, column «{name}»")
        for out in rule.outputEntries:
            if out.text and out.text.strip():
                name = out.output.label or out.output.name or out.output.id
                cell(out.text, out.text.strip(), f"dòng {rule.row_number}, kết quả «{name}»",
                     f"row {rule.row_number}, output «{name}»")
    return problems


def _detail(exc: BaseException) -> str:
    """The innermost cause of a failing cell (SpiffWorkflow wraps it, e.g. the sandbox's time limit)."""
    root = exc
    while True:
        inner = root.__cause__ or (None if root.__suppress_context__ else root.__context__)
        if inner is None:
            break
        root = inner
    return f"{type(root).__name__}: {root}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


class PlatformBusinessRuleTask(BusinessRuleTask):
    """A business rule task whose table decides by the platform's hit policies (module docstring)."""

    def _rule_matches(self, my_task: Any, rule: Any) -> bool:
        try:
            return bool(self.dmnEngine._DMNEngine__check_rule(rule, my_task))
        except Exception as exc:
            detail = _detail(exc)
            label = table_label(self.dmnEngine.decision_table)
            raise DecisionError(f"Bảng quyết định «{label}», dòng {rule.row_number}: {detail} "
                                f"(decision table «{label}», row {rule.row_number})", my_task) from exc

    def _rule_outputs(self, my_task: Any, rule: Any) -> dict[str, Any]:
        try:
            return dict(rule.output_as_dict(my_task))
        except Exception as exc:
            detail = _detail(exc)
            label = table_label(self.dmnEngine.decision_table)
            raise DecisionError(f"Bảng quyết định «{label}», kết quả dòng {rule.row_number}: {detail} "
                                f"(decision table «{label}», output of row {rule.row_number})", my_task) from exc

    def _input_values(self, my_task: Any) -> str:
        shown = []
        for column in self.dmnEngine.decision_table.inputs:
            try:
                value = _shown(my_task.workflow.script_engine.evaluate(my_task, column.expression))
            except SpiffWorkflowException:
                value = "?"
            shown.append(f"{column.expression} = {value}")
        return ", ".join(shown)

    def _run_hook(self, my_task: Any) -> bool:
        table = self.dmnEngine.decision_table
        policy = (table.hit_policy or "UNIQUE").upper()
        label = table_label(table)
        matched = []
        for rule in table.rules:
            if self._rule_matches(my_task, rule):
                matched.append(rule)
                if policy == "FIRST":
                    break
        result: dict[str, Any] = {}
        if policy == "COLLECT":
            result = {o.name: [] for o in table.outputs if o.name and "." not in o.name}
            for rule in matched:
                for key, value in self._rule_outputs(my_task, rule).items():
                    result.setdefault(key, []).append(value)
        elif not matched:
            raise DecisionError(f"Bảng quyết định «{label}» không có dòng nào khớp với {self._input_values(my_task)} "
                                f"(no rule of decision table «{label}» matches)", my_task)
        elif len(matched) > 1 and policy == "UNIQUE":
            rows = ", ".join(str(r.row_number) for r in matched)
            raise DecisionError(f"Bảng quyết định «{label}» (UNIQUE) có nhiều dòng khớp ({rows}) với "
                                f"{self._input_values(my_task)}; dùng chính sách FIRST nếu thứ tự dòng quyết định "
                                f"(several rules of UNIQUE decision table «{label}» match: {rows})", my_task)
        else:
            result = self._rule_outputs(my_task, matched[0])
        my_task.data = DeepMerge.merge(my_task.data, result)
        return True
