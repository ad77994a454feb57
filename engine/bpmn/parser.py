"""Hardened parsing of BPMN/DMN files into SpiffWorkflow specs (Camunda 7 dialect)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator, full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import EventBasedGatewayParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    ServiceTask,
    StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import (
    CAMUNDA_MODEL_NS,
    BusinessRuleTaskParser,
    CamundaTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.specs.user_task import UserTask

from engine.bpmn.decisions import PlatformBusinessRuleTask, normalize_entry
from engine.bpmn.timers import clocked
from engine.safe_xml import XmlRefused, parse_xml

CAMUNDA_PREFIX = "{" + CAMUNDA_MODEL_NS + "}"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


class ExternalServiceTask(ServiceTask):
    """A service task the engine never runs itself: the worker completes it.

    Marked manual so `do_engine_steps` leaves it READY; the worker calls the
    adapter for its `camunda:topic` and then runs it.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = True

    def _run_hook(self, my_task: Any) -> bool:
        # The worker has already applied the adapter's result to the task data.
        return True


def _camunda_attributes(node: Any) -> dict[str, str]:
    return {
        key[len(CAMUNDA_PREFIX):]: value
        for key, value in node.attrib.items()
        if key.startswith(CAMUNDA_PREFIX)
    }


def _lane_properties(parser: CamundaTaskParser) -> dict[str, str]:
    """camunda:properties of the lane holding this node (lane-level performers)."""
    lanes = parser.process_parser.node.xpath(
        f".//bpmn:lane[bpmn:flowNodeRef/text()='{parser.bpmn_id}']", namespaces=parser.nsmap)
    if not lanes:
        return {}
    props = lanes[0].xpath(
        "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=parser.nsmap)
    return {p.get("name"): p.get("value") for p in props}


class _ExtensionsMixin:
    """Keeps every camunda:* attribute and property on the spec's `extensions`.

    The stock Camunda parser reads formKey and properties only; candidate
    groups, due date, priority and the external topic are read here.
    """

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        parser: Any = self
        props = CamundaTaskParser.parse_extensions(parser, node)
        return {
            "properties": props,
            "camunda": _camunda_attributes(parser.node),
            "lane_properties": _lane_properties(parser),
        }


    def _add_multiinstance_task(self, loop_characteristics: Any) -> None:
        parser: Any = self
        CamundaTaskParser._add_multiinstance_task(parser, loop_characteristics)
        task = parser.task
        # Camunda's collection MI fills data_input at run time by mutating the spec,
        # which a stored spec never sees; set it at parse time so restores agree.
        if task.cardinality is None and task.data_output is not None:
            task.data_input = TaskDataReference(task.data_output.bpmn_id)
            if task.output_item is not None:
                task.input_item = TaskDataReference(task.output_item.bpmn_id)


class PlatformUserTaskParser(_ExtensionsMixin, UserTaskParser):
    pass


class PlatformTaskParser(_ExtensionsMixin, CamundaTaskParser):
    pass


class PlatformBusinessRuleTaskParser(_ExtensionsMixin, BusinessRuleTaskParser):
    """`camunda:decisionRef` names the decision (its id in a .dmn file of the same version)."""

    def create_task(self) -> Any:
        decision_ref = self.get_decision_ref(self.node)
        return PlatformBusinessRuleTask(self.spec, self.bpmn_id,
                                        dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
                                        **self.bpmn_attributes)


class _ClockedTimersMixin:
    """Timer definitions that run on the platform's clock (see engine/bpmn/timers.py)."""

    def parse_timer_event(self, event: Any) -> Any:
        return clocked(super().parse_timer_event(event))  # type: ignore[misc]


class PlatformStartEventParser(_ClockedTimersMixin, CamundaStartEventParser):
    pass


class PlatformIntermediateCatchEventParser(_ClockedTimersMixin, CamundaIntermediateCatchEventParser):
    pass


class PlatformBoundaryEventParser(_ClockedTimersMixin, CamundaBoundaryEventParser):
    pass


class PlatformEventBasedGatewayParser(_ClockedTimersMixin, EventBasedGatewayParser):
    pass


class PlatformParser(CamundaParser):
    """CamundaParser plus external service tasks, full Camunda attributes and clocked timers."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, Any]] = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (PlatformUserTaskParser, UserTask),
        full_tag("serviceTask"): (PlatformTaskParser, ExternalServiceTask),
        full_tag("startEvent"): (PlatformStartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (PlatformIntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (PlatformBoundaryEventParser, BoundaryEvent),
        full_tag("eventBasedGateway"): (PlatformEventBasedGatewayParser, EventBasedGateway),
        full_tag("businessRuleTask"): (PlatformBusinessRuleTaskParser, PlatformBusinessRuleTask),
    }

    def get_engine(self, decision_ref: str, node: Any) -> Any:
        """The decision's engine, its input entries written as the platform reads them (decisions.py)."""
        dmn_parser = self.dmn_parsers.get(decision_ref)
        if dmn_parser is not None:
            dmn_parser.parse()
            if not dmn_parser.decision.decisionTables:
                raise ValidationException(f"Decision {decision_ref} has no decision table",
                                          node=node, file_name=dmn_parser.filename)
        engine = super().get_engine(decision_ref, node)
        if not engine.decision_table.name:  # messages name the table by its decision's name
            engine.decision_table.name = dmn_parser.get_name() or decision_ref  # type: ignore[union-attr]
        for rule in engine.decision_table.rules:
            for entry in rule.inputEntries:
                entry.lhs = [normalize_entry(text) for text in entry.lhs]
        return engine


@dataclass
class ParsedModel:
    """What one set of BPMN/DMN files yields: executable process specs."""

    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any] = field(default_factory=dict)
    #: The process element's camunda:properties (name → value), e.g. `deadline`.
    properties: dict[str, str] = field(default_factory=dict)


def executable_process_ids(tree: etree._ElementTree) -> list[str]:
    return [
        p.get("id") for p in tree.getroot().iter(f"{{{BPMN_NS}}}process")
        if p.get("isExecutable", "false") == "true"
    ]


def process_properties(tree: etree._ElementTree, process_id: str) -> dict[str, str]:
    """camunda:properties on the process element itself (not on its tasks or lanes)."""
    found = tree.getroot().xpath(
        "./bpmn:process[@id=$pid]/bpmn:extensionElements/camunda:properties/camunda:property",
        namespaces={"bpmn": BPMN_NS, "camunda": CAMUNDA_MODEL_NS}, pid=process_id)
    return {p.get("name"): p.get("value") or "" for p in found if p.get("name")}


def build_specs(bpmn_trees: dict[str, etree._ElementTree],
                dmn_trees: dict[str, etree._ElementTree] | None = None) -> list[ParsedModel]:
    """Run SpiffWorkflow's validator and parser over already-hardened trees."""
    parser = PlatformParser(validator=BpmnValidator())
    for name, tree in (dmn_trees or {}).items():
        parser.add_dmn_xml(tree.getroot(), filename=name)
    for name, tree in bpmn_trees.items():
        parser.add_bpmn_xml(tree.getroot(), filename=name)
    models = []
    for tree in bpmn_trees.values():
        for process_id in executable_process_ids(tree):
            spec = parser.get_spec(process_id)
            subs = parser.get_subprocess_specs(process_id)
            models.append(ParsedModel(process_id, spec.description or process_id, spec, subs,
                                      process_properties(tree, process_id)))
    return models


__all__ = [
    "ExternalServiceTask", "ParsedModel", "PlatformParser", "ValidationException",
    "XmlRefused", "build_specs", "parse_xml",
]
