"""What every use case needs besides the unit of work: settings, clock, runtime, adapters."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.adapters.base import AdapterRegistry
from engine.bpmn.functions import platform_functions
from engine.bpmn.runtime import Runtime
from engine.settings import Settings


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    adapters: AdapterRegistry
    clock: Callable[[], datetime] = system_clock
    runtime: Runtime = field(init=False)

    def __post_init__(self) -> None:
        self.runtime = Runtime(platform_functions(self.clock))

    def now(self) -> datetime:
        return self.clock()
