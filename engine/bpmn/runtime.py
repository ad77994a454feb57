"""Runs SpiffWorkflow workflows: start, step until waiting, complete tasks, (de)serialize."""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.decisions import PlatformBusinessRuleTask
from engine.bpmn.parser import ExternalServiceTask, ParsedModel
from engine.bpmn.sandbox import RestrictedEnvironment, SandboxError
from engine.bpmn.timers import CLOCKED, fire_at

SPEC_CACHE_SIZE = 64  # procedure versions whose specs stay restored in memory


class WorkflowError(Exception):
    """A script, expression or gateway failed while the engine stepped."""

    def __init__(self, message: str, element_id: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id


class _SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Restores a workflow around spec objects already restored once per version.

    The library's converter restores the spec from its dict on every load, which is most of
    the cost; stored state carries no spec, and `Runtime.restore` hands in cached objects.
    """

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subs = dct.pop("spec"), dct.pop("subprocess_specs", {})
        if isinstance(spec, dict):
            spec, subs = self.registry.restore(spec), self.mapping_from_dict(subs)
        workflow = self.target_class(spec, subs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    config[ExternalServiceTask] = BpmnTaskSpecConverter
    config[PlatformBusinessRuleTask] = BaseBusinessRuleTaskConverter
    config[BpmnWorkflow] = _SharedSpecWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Registered after the library's under the same names, so that stored specs (which name
    # the library's timer classes) restore as the clocked ones.
    for library_class, clocked_class in CLOCKED.items():
        TimerConditionalEventDefinitionConverter(clocked_class, registry, typename=library_class.__name__)
    # Only datetime, timedelta and UUID convert out of the box.
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _make_serializer()


def spec_bundle(model: ParsedModel) -> str:
    """JSON of a version's specs, stored once per version."""
    return json.dumps({
        "spec": SERIALIZER.to_dict(model.spec),
        "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in model.subprocess_specs.items()},
    })


@dataclass(frozen=True)
class ReadyHumanTask:
    """A READY user task as the persistence layer indexes it."""

    task_id: str
    element_id: str
    name: str
    lane: str | None
    form_key: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    due_expression: str | None
    data: dict[str, Any]
    #: The task's camunda:properties, e.g. clock=pause.
    properties: Mapping[str, str] = field(default_factory=dict)
    #: The variable a `camunda:assignee="${name}"` reads; its value (a username) heads candidate_users.
    assignee_variable: str | None = None


@dataclass(frozen=True)
class ReadyExternalTask:
    """A READY external service task waiting for the worker."""

    task_id: str
    element_id: str
    name: str
    topic: str
    data: dict[str, Any]
    #: The task's camunda:properties (e.g. the template of a document step).
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event waiting for its moment; the instance's wake-up time is the earliest."""

    element_id: str
    name: str
    fire_at: datetime


_ACTIVE_STATES = (TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


#: `camunda:assignee="${name}"`: the Camunda Modeler's notation for "the user named by a variable".
#: Only a plain variable name is read (expressions are Python elsewhere; publishing refuses the rest).
ASSIGNEE_VARIABLE = re.compile(r"^\$\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}$")


def _performers(attrs: Mapping[str, str], data: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """The task's named users (the assignee first) and the variable its assignee was read from.

    A `${name}` assignee is resolved from the task's data when the task opens; a value that is not
    a non-empty text names nobody, and the task stays with its candidate groups.
    """
    assignee = (attrs.get("assignee") or "").strip()
    match = ASSIGNEE_VARIABLE.match(assignee)
    variable = match.group(1) if match else None
    if variable is not None:
        value = data.get(variable)
        assignee = value.strip() if isinstance(value, str) else ""
    users = ((assignee,) if assignee else ()) + _split(attrs.get("candidateUsers"))
    return tuple(dict.fromkeys(users)), variable


#: `${name}:ROLE` in camunda:candidateGroups: ROLE within the unit whose code the variable `name` holds
#: (e.g. one task per participating unit of a multi-instance, `${don_vi}:chuyen_vien`).
GROUP_VARIABLE = re.compile(r"^\$\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}:")


def _groups(value: str | None, data: Mapping[str, Any]) -> tuple[str, ...]:
    """The candidate groups, each `${name}:ROLE` resolved from the task's data when the task opens.

    A variable that does not hold a non-empty unit code leaves the group as written: no unit has that
    code, so the group names nobody (never everyone holding the role).
    """
    groups = []
    for group in _split(value):
        match = GROUP_VARIABLE.match(group)
        unit = data.get(match.group(1)) if match else None
        resolved = match is not None and isinstance(unit, str) and bool(unit.strip()) and ":" not in unit
        groups.append(f"{str(unit).strip()}{group[match.end() - 1:]}" if match and resolved else group)
    return tuple(groups)


def _camunda(spec: Any) -> dict[str, str]:
    return (getattr(spec, "extensions", None) or {}).get("camunda", {})


def _lane_props(spec: Any) -> dict[str, str]:
    return (getattr(spec, "extensions", None) or {}).get("lane_properties", {})


def _element_id(task: Any) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name


def _system_clock() -> datetime:
    return datetime.now(UTC)


class PlatformScriptEngine(PythonScriptEngine):
    """The script engine, carrying the clock that timer events read (engine/bpmn/timers.py)."""

    def __init__(self, environment: RestrictedEnvironment, clock: Callable[[], datetime]) -> None:
        super().__init__(environment=environment)
        self.clock = clock


class Runtime:
    """One script engine with the platform's functions and clock, shared by every workflow."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None,
                 time_limit: float = 2.0, clock: Callable[[], datetime] = _system_clock) -> None:
        self.environment = RestrictedEnvironment(functions, time_limit)
        self.script_engine = PlatformScriptEngine(self.environment, clock)
        self._spec_cache: dict[str, tuple[Any, dict[str, Any]]] = {}

    # --- lifecycle -------------------------------------------------------
    def _specs(self, bundle_json: str) -> tuple[Any, dict[str, Any]]:
        """Spec objects of a version, restored once and shared by its instances."""
        cached = self._spec_cache.get(bundle_json)
        if cached is None:
            bundle = json.loads(bundle_json)
            cached = (SERIALIZER.from_dict(bundle["spec"]),
                      {k: SERIALIZER.from_dict(v) for k, v in bundle["subprocess_specs"].items()})
            if len(self._spec_cache) >= SPEC_CACHE_SIZE:
                self._spec_cache.pop(next(iter(self._spec_cache)))
            self._spec_cache[bundle_json] = cached
        return cached

    def start(self, bundle_json: str, data: Mapping[str, Any] | None = None,
              fired_start: str | None = None) -> BpmnWorkflow:
        """A new workflow stepped until it waits; `fired_start` names a timer start event whose
        moment has come (a schedule's run), so the instance does not wait on it again."""
        spec, subs = self._specs(bundle_json)
        workflow = BpmnWorkflow(spec, subs, script_engine=self.script_engine)
        if data:
            workflow.task_tree.data.update(copy.deepcopy(dict(data)))
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(copy.deepcopy(dict(data)))
        if fired_start is not None:
            self._fire_start(workflow, fired_start)
            self.step(workflow)  # the cycle's last firing leaves the start event ready: finish it
        self.step(workflow)
        return workflow

    def _fire_start(self, workflow: BpmnWorkflow, element_id: str) -> None:
        for task in workflow.get_tasks(spec_name=element_id):
            definition = task.task_spec.event_definition
            if isinstance(definition, CycleTimerEventDefinition):
                # One repetition due now: the library adds the start event's path, then ends it.
                now = self.script_engine.clock().isoformat()
                task._set_internal_data(event_value={"cycles": 1, "next": now, "duration": 1.0})
            else:
                task._set_internal_data(event_fired=True)

    def restore(self, bundle_json: str, state_json: str) -> BpmnWorkflow:
        dct = json.loads(state_json)
        SERIALIZER.migrate(dct)
        dct["spec"], dct["subprocess_specs"] = self._specs(bundle_json)
        workflow = SERIALIZER.from_dict(dct)
        workflow.script_engine = self.script_engine
        return workflow

    @staticmethod
    def dump(workflow: BpmnWorkflow) -> str:
        """Workflow state without the spec (the version stores that once)."""
        SERIALIZER.registry._encoder_mode = True
        try:
            dct = SERIALIZER.to_dict(workflow)
        finally:
            SERIALIZER.registry._encoder_mode = False
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
        return json.dumps(dct, cls=SERIALIZER._encoder_cls)

    def step(self, workflow: BpmnWorkflow) -> None:
        """Run engine steps until the workflow waits; script errors become WorkflowError."""
        try:
            workflow.refresh_timers()
            workflow.do_engine_steps()
        except (SpiffWorkflowException, SandboxError) as exc:
            task = getattr(exc, "task", None)
            element = _element_id(task) if task is not None else None
            detail = getattr(exc, "error_type", None) or str(exc)
            raise WorkflowError(str(detail), element) from exc

    # --- queries ---------------------------------------------------------
    @staticmethod
    def ready_human_tasks(workflow: BpmnWorkflow) -> list[ReadyHumanTask]:
        result = []
        for task in workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            if not isinstance(spec, UserTask):
                continue
            attrs, lane = _camunda(spec), _lane_props(spec)
            users, assignee_variable = _performers(attrs, task.data)
            result.append(ReadyHumanTask(
                task_id=str(task.id), element_id=_element_id(task), name=spec.bpmn_name or spec.name,
                lane=spec.lane, form_key=attrs.get("formKey"),
                candidate_groups=_groups(attrs.get("candidateGroups") or lane.get("candidateGroups"), task.data),
                candidate_users=users, due_expression=attrs.get("dueDate"), data=task.data,
                properties=dict(spec.extensions.get("properties") or {}), assignee_variable=assignee_variable,
            ))
        return result

    @staticmethod
    def ready_external_tasks(workflow: BpmnWorkflow) -> list[ReadyExternalTask]:
        return [
            ReadyExternalTask(str(t.id), _element_id(t), t.task_spec.bpmn_name or t.task_spec.name,
                              _camunda(t.task_spec).get("topic", ""), t.data,
                              dict((t.task_spec.extensions or {}).get("properties") or {}))
            for t in workflow.get_tasks(state=TaskState.READY, manual=True)
            if isinstance(t.task_spec, ExternalServiceTask)
        ]

    @staticmethod
    def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
        """Timers (intermediate, boundary, start) waiting in the workflow, with their fire time."""
        result = []
        for task in workflow.event_manager.tasks.values():
            definition = getattr(task.task_spec, "event_definition", None)
            if task.state == TaskState.WAITING and definition is not None:
                at = fire_at(definition, task)
                if at is not None:
                    result.append(WaitingTimer(_element_id(task), task.task_spec.bpmn_name or "", at))
        return result

    @classmethod
    def next_timer(cls, workflow: BpmnWorkflow) -> datetime | None:
        """When the earliest waiting timer fires; None if none waits."""
        return min((t.fire_at for t in cls.waiting_timers(workflow)), default=None)

    @staticmethod
    def variables(workflow: BpmnWorkflow) -> Mapping[str, Any]:
        """The instance's current variables, lists and objects too (read only): the workflow's own
        data once it has ended, else the data of the task that changed last."""
        if workflow.is_completed():
            return workflow.data
        tasks = [t for t in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.READY)
                 if t.task_spec.bpmn_id]
        return max(tasks, key=lambda t: t.last_state_change).data if tasks else workflow.data

    @classmethod
    def facts(cls, workflow: BpmnWorkflow) -> dict[str, Any]:
        """The instance's current plain variables (`variables`): text (up to 500 characters), numbers,
        booleans, dates as ISO text; lists and objects are left out."""
        data = cls.variables(workflow)
        facts: dict[str, Any] = {}
        for name, value in data.items():
            if name.startswith("_"):
                continue
            if isinstance(value, (date, datetime)):
                facts[name] = value.isoformat()
            elif isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 500):
                facts[name] = value
        return facts

    def evaluate(self, workflow: BpmnWorkflow, task_id: str, expression: str) -> Any:
        task = workflow.get_task_from_id(UUID(task_id))
        return self.script_engine.evaluate(task, expression)

    @staticmethod
    def element_states(workflow: BpmnWorkflow) -> tuple[list[str], list[str]]:
        """(completed, active) BPMN element ids, for the diagram."""
        done: list[str] = []
        active: list[str] = []
        for task in workflow.get_tasks():
            bpmn_id = task.task_spec.bpmn_id
            if not bpmn_id:
                continue
            if task.state == TaskState.COMPLETED and bpmn_id not in done:
                done.append(bpmn_id)
            elif task.state in _ACTIVE_STATES and bpmn_id not in active:
                active.append(bpmn_id)
        return done, active

    # --- commands --------------------------------------------------------
    def complete(self, workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete a ready manual task with (a copy of) data, then step."""
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY:
            raise KeyError(task_id)
        # Nested task data is shared between tasks in 3.2: never hand over the caller's objects.
        task.data.update(copy.deepcopy(dict(data)))
        task.run()
        self.step(workflow)

    def rerun_failed(self, workflow: BpmnWorkflow, element_id: str) -> bool:
        """Run the element's failed tasks again, then step; False when none of them is in ERROR.

        A script, gateway or rule that raised is left in ERROR with the data it started with (the
        sandbox writes variables only when a script succeeds). The task is put back to READY as it
        is rather than reset with `reset_from_task_id`, which would also restart the boundary timers
        of the task (a deadline would start again) and give a multi-instance child its parent's data.
        The state setter refuses to go back from ERROR, hence `_set_state` (pinned SpiffWorkflow 3.2,
        tests/engine/test_incidents.py). A failure again raises WorkflowError, as stepping does.
        """
        failed = [t for t in workflow.get_tasks(state=TaskState.ERROR) if _element_id(t) == element_id]
        for task in failed:
            task._set_state(TaskState.READY)
        if failed:
            self.step(workflow)
        return bool(failed)

    def rerun_scripts(self, workflow: BpmnWorkflow, element_ids: Iterable[str]) -> tuple[list[str], dict[str, Any]]:
        """Run again the code of the named script tasks that have already run, over the instance's
        current variables, in the order named; returns (the elements run, every variable they set
        to a new value). Nothing is written into the workflow: the caller writes the values
        (engine.bpmn.variables.set_variables). A script not reached yet is skipped: it will run
        with the current data anyway. Each script sees the values the previous ones set. Used when
        a meeting is postponed (process property `meeting_time_scripts`, docs/modeling.md).

        A script that fails raises WorkflowError naming its element.
        """
        current = copy.deepcopy(dict(self.variables(workflow)))
        ran: list[str] = []
        changed: dict[str, Any] = {}
        for element_id in element_ids:
            done = [t for flow in (workflow, *workflow.subprocesses.values())
                    for t in flow.get_tasks(state=TaskState.COMPLETED) if _element_id(t) == element_id]
            script = getattr(done[0].task_spec, "script", None) if done else None
            if not script:
                continue
            context = copy.deepcopy(current)
            try:
                self.environment.execute(script, context)
            except Exception as exc:
                raise WorkflowError(f"{type(exc).__name__}: {exc}", element_id) from exc
            for name, value in context.items():
                if name not in current or current[name] != value:
                    changed[name] = value
                    current[name] = value
            ran.append(element_id)
        return ran, changed

    def element_names(self, bundle_json: str) -> dict[str, str]:
        """BPMN element id → its name in the diagram, for every task of a version (subprocesses too)."""
        spec, subs = self._specs(bundle_json)
        return {s.bpmn_id: s.bpmn_name for process in (spec, *subs.values())
                for s in process.task_specs.values() if getattr(s, "bpmn_id", None) and getattr(s, "bpmn_name", None)}

    @staticmethod
    def cancel(workflow: BpmnWorkflow) -> None:
        workflow.cancel()
