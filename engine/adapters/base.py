"""Adapter registry: `camunda:topic` names → operations the worker calls."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class AdapterError(Exception):
    """A technical failure worth retrying (peer down, timeout)."""


class AdapterRefused(AdapterError):
    """The peer refused the request as sent (e.g. HTTP 4xx): repeating it cannot help.

    The worker raises the incident at once, with this message, instead of trying again; the message
    shows what the peer answered (status and body, secrets removed) so the operator knows what to fix.
    """

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class CallContext:
    """Where a call comes from: the instance, its procedure version and the service task.

    `properties` are the task's camunda:properties (e.g. the template a document step renders).
    """

    instance_id: int
    version_id: int
    element_id: str
    element_name: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)


class Operation(Protocol):
    def __call__(self, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        """Carry out the operation once per idempotency `key`; return variables to merge.

        The instance history shows the outcome given in `ket_qua` (see engine.worker.call_summary).
        """


#: A question to an external system asked while a form is checked, e.g. "does this mailbox exist?"
#: (form fields name it in `properties.check`, engine/forms/rules.py); raises AdapterError when the
#: system cannot answer.
Lookup = Callable[[str], bool]


@dataclass
class AdapterRegistry:
    operations: dict[str, Operation]
    #: Lookups by the name form fields give in `properties.check` (e.g. "mail_directory").
    lookups: dict[str, Lookup] = field(default_factory=dict)

    def topics(self) -> set[str]:
        return set(self.operations)

    def call(self, topic: str, key: str, data: Mapping[str, Any], context: CallContext) -> dict[str, Any]:
        try:
            operation = self.operations[topic]
        except KeyError:
            raise AdapterError(f"Không có bộ kết nối cho chủ đề {topic}") from None
        return operation(key, data, context)

