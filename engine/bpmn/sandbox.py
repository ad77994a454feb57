"""Runs BPMN scripts and expressions under RestrictedPython with a time budget."""
from __future__ import annotations

import operator
import sys
import time
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

DEFAULT_TIME_LIMIT = 2.0  # seconds of wall time for one script or expression
MAX_SOURCE = 20_000  # characters; a procedure's scripts are short

_EXTRA_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "all", "any", "dict", "enumerate", "filter", "list", "map", "max", "min",
        "reversed", "sorted", "sum",
    )
}

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "|=": operator.ior, "&=": operator.iand,
}


class SandboxError(Exception):
    """A script or expression was refused or failed; the message is safe to show."""


class SandboxTimeout(SandboxError):
    """A script ran past its time budget."""


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise SandboxError(f"Toán tử {op} không được phép") from None


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _compile(source: str, mode: str) -> CodeType:
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        raise SandboxError("Biểu thức/kịch bản rỗng hoặc quá dài")
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source.strip() if mode == "eval" else source, "<script>")
    if result.errors:
        raise SandboxError("; ".join(result.errors))
    return result.code


def check_expression(source: str) -> str | None:
    """Return None when the expression compiles in the sandbox, else the reason."""
    try:
        _compile(source, "eval")
    except SandboxError as exc:
        return str(exc)
    return None


def check_script(source: str) -> str | None:
    """Return None when the script compiles in the sandbox, else the reason."""
    try:
        _compile(source, "exec")
    except SandboxError as exc:
        return str(exc)
    return None


class _Budget:
    """A trace function that stops a script once its deadline passes.

    Tracing is per thread, so it works inside web-server threads where
    signal-based alarms cannot be used. Script frames are traced per opcode
    because a one-line `while True: pass` emits no line events.
    """

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_filename == "<script>":
            frame.f_trace_opcodes = True
        if time.monotonic() > self.deadline:
            raise SandboxTimeout("Kịch bản chạy quá thời gian cho phép")
        return self


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that evaluates under RestrictedPython.

    `functions` are the platform's helpers (calendar, formatting) injected into
    every script and expression; they never end up in task data.
    """

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        time_limit: float = DEFAULT_TIME_LIMIT,
    ) -> None:
        super().__init__({})
        self.functions = dict(functions or {})
        self.time_limit = time_limit
        self._cache: dict[tuple[str, str], CodeType] = {}

    def _code(self, source: str, mode: str) -> CodeType:
        key = (mode, source)
        if key not in self._cache:
            self._cache[key] = _compile(source, mode)
        return self._cache[key]

    def _globals(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        builtins = dict(safe_builtins)
        builtins.update(_EXTRA_BUILTINS)
        env: dict[str, Any] = {
            "__builtins__": builtins,
            "_getattr_": safer_getattr,
            "_getitem_": _getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": _inplacevar,
        }
        env.update(self.functions)
        env.update(external or {})
        env.update(context)
        return env

    def _run(self, code: CodeType, env: dict[str, Any]) -> Any:
        previous = sys.gettrace()
        sys.settrace(_Budget(self.time_limit))
        try:
            return eval(code, env)  # noqa: S307 - code compiled by RestrictedPython
        finally:
            sys.settrace(previous)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return self._run(self._code(expression, "eval"), self._globals(context, external_context))

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        env = self._globals(context, external_context)
        injected = set(env) - set(context)
        self._run(self._code(script, "exec"), env)
        result = {
            key: value
            for key, value in env.items()
            if key not in injected and not key.startswith("_") and not callable(value)
        }
        context.clear()
        context.update(result)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise SandboxError("Service tasks run in the worker through adapters, not in scripts")
