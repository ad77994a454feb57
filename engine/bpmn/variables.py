"""Changing a running instance's variables from outside its tasks (a meeting postponed), its timers following.

SpiffWorkflow keeps variables in each task's data: a task copies its parent's data when it becomes
ready, and a waiting timer copies its parent's again each time timers are refreshed. A value set
only on the waiting task would be overwritten by the next refresh, so `set_variables` writes the
new values into every task (done, waiting or still to come) and into the workflow's own data.

A date timer (`timeDate`) computes its moment once, when it starts waiting, and stores it in the
task's internal data (engine/bpmn/timers.py: `event_value`). `rearm_timers` computes that moment
again, from the new values, for the waiting date timers whose expression reads a changed variable
(`shift(hop_luc, hours=-2)` reads `hop_luc`). Durations and cycles count from when they started
waiting and are left as they are.

Values script tasks derived from the time are computed again by running those scripts
(`TIME_SCRIPTS_PROPERTY`, engine.bpmn.runtime.Runtime.rerun_scripts) and written with `set_variables`.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.timers import ClockTimeDate

#: Process property: comma-separated ids of the script tasks that derive values from the meeting's
#: time (texts, marks); a postponement runs those already run again (docs/modeling.md).
TIME_SCRIPTS_PROPERTY = "meeting_time_scripts"


def time_scripts(properties: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The element ids `meeting_time_scripts` names, in order, without blanks or repeats."""
    value = str((properties or {}).get(TIME_SCRIPTS_PROPERTY) or "")
    return tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))


def _workflows(workflow: BpmnWorkflow) -> Iterator[Any]:
    yield workflow
    yield from workflow.subprocesses.values()


def set_variables(workflow: BpmnWorkflow, values: Mapping[str, Any]) -> None:
    """Every task of the workflow (and of its subprocesses) and the workflow's own data take `values`."""
    for flow in _workflows(workflow):
        flow.data.update(copy.deepcopy(dict(values)))
        for task in flow.get_tasks():
            # Each task gets its own copy: nested task data is shared between tasks in 3.2.
            task.data.update(copy.deepcopy(dict(values)))


def reads_any(expression: str, names: Iterable[str]) -> bool:
    """Whether an expression names one of the variables (as a whole word, not inside a longer name)."""
    wanted = "|".join(re.escape(n) for n in names)
    return bool(wanted) and re.search(rf"(?<![A-Za-z0-9_])(?:{wanted})(?![A-Za-z0-9_])", expression) is not None


def rearm_timers(workflow: BpmnWorkflow, names: Iterable[str]) -> list[tuple[str, datetime]]:
    """Waiting date timers whose expression reads one of `names` compute their moment again from the
    waiting task's (new) data; returns (element id, new moment) of each timer moved.

    A moment already past is stored as it is: the worker sees the timer due and fires it on its next
    run, as it would any timer. Evaluation errors propagate (the caller changes nothing then).
    """
    changed = list(names)
    moved: list[tuple[str, datetime]] = []
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if task.state != TaskState.WAITING or not isinstance(definition, ClockTimeDate):
            continue
        if not reads_any(definition.expression or "", changed):
            continue
        task._inherit_data()  # as a refresh would, so the expression reads the parent's new values
        fire_at = definition._first_fire(task)
        task._set_internal_data(event_value=fire_at.isoformat(), event_fired=False)
        moved.append((task.task_spec.bpmn_id or task.task_spec.name, fire_at))
    return moved
