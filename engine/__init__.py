"""The platform core: BPMN runtime, persistence, services and adapters (no Flask)."""
