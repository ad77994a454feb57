"""Runs BPMN scripts and expressions under RestrictedPython with a time budget."""
from __future__ import annotations

import ast
import operator
import sys
import time
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any

from RestrictedPython import (
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
    safe_builtins,
)
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

DEFAULT_TIME_LIMIT = 2.0  # seconds of wall time for one script or expression
MAX_SOURCE = 20_000  # characters; a procedure's scripts are short
# range() feeds C loops (sum, sorted, list) that the time budget cannot interrupt.
MAX_RANGE = 1_000_000

_EXTRA_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "all", "any", "dict", "enumerate", "filter", "list", "map", "max", "min",
        "reversed", "sorted", "sum",
    )
}

# BaseException subclasses that are not Exceptions: no script may raise or name them.
_SYSTEM_EXCEPTIONS = ("BaseException", "GeneratorExit", "KeyboardInterrupt", "SystemExit")

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "|=": operator.ior, "&=": operator.iand,
}


#: Modules the interpreter itself imports on a script's behalf (datetime.strftime imports `time`,
#: strptime `_strptime`); scripts cannot name `__import__` (underscore names are refused).
_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})


def _internal_import(name: str, *args: Any, **kwargs: Any) -> Any:
    if name not in _INTERNAL_IMPORTS:
        raise ImportError(f"import of {name} is not allowed")
    return __import__(name, *args, **kwargs)


class SandboxError(Exception):
    """A script or expression was refused or failed; the message is safe to show."""


class SandboxTimeout(SandboxError):
    """A script ran past its time budget."""


class _Deadline(BaseException):
    """Raised inside a script when its budget is spent.

    CPython switches tracing off once the trace function raises, so nothing of
    the script may run after this: it is not an Exception, `finally:` is refused
    and every `except` clause goes through _handler (see _ScriptPolicy).
    """


def _handler(types: Callable[[], Any] | None) -> Any:
    """The class an `except` clause matches, decided only once something is in flight.

    A BaseException that is not an Exception (budget spent, generator closed,
    interrupt) matches nothing, and the clause's own expression is not even
    evaluated then, so it cannot swap the exception for a catchable one.
    A bare `except:` means Exception.
    """
    if not isinstance(sys.exception(), Exception):
        return ()
    return Exception if types is None else types()


class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, minus every way for a script to outlive its budget."""

    def visit_Import(self, node: ast.Import) -> Any:
        # RestrictedPython would only fail at run time (no __import__); refuse at publishing.
        self.error(node, "import is not allowed")

    visit_ImportFrom = visit_Import  # type: ignore[assignment]

    def visit_Try(self, node: ast.Try) -> Any:
        if node.finalbody:
            self.error(node, "finally is not allowed")
        result = super().visit_Try(node)  # visits in place and returns the same node
        for handler in node.handlers:
            # `except T:` becomes `except _handler_(lambda: T):` (generated after the
            # name checks, so the underscore name is allowed here and nowhere else).
            lazy = ast.Constant(None) if handler.type is None else ast.Lambda(
                args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                body=handler.type)
            handler.type = ast.Call(func=ast.Name("_handler_", ast.Load()), args=[lazy], keywords=[])
            ast.fix_missing_locations(ast.copy_location(handler.type, handler))
        return result


def _limited_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SandboxError(f"range() quá lớn (tối đa {MAX_RANGE} phần tử)")
    return result


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
    result = compiler(source.strip() if mode == "eval" else source, "<script>", policy=_ScriptPolicy)
    if result.errors or result.code is None:
        raise SandboxError("; ".join(result.errors) or "Không biên dịch được")
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
        if time.monotonic() > self.deadline:
            raise _Deadline
        if event == "call":
            if frame.f_code.co_filename != "<script>":
                # The platform's own functions (the calendar building a year's holidays) run untraced: line
                # tracing slows them a hundredfold, enough to spend a script's whole budget on a busy machine.
                return None
            frame.f_trace_opcodes = True
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
        builtins["range"] = _limited_range
        builtins["__import__"] = _internal_import
        for name in _SYSTEM_EXCEPTIONS:  # a script raising SystemExit would stop the worker
            builtins.pop(name, None)
        guards: dict[str, Any] = {
            "__builtins__": builtins,
            "_getattr_": safer_getattr,
            "_getitem_": _getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": _inplacevar,
            "_handler_": _handler,
        }
        # Guards last: task data must not replace them.
        return {**self.functions, **(external or {}), **context, **guards}

    def _run(self, code: CodeType, env: dict[str, Any]) -> Any:
        previous = sys.gettrace()
        sys.settrace(_Budget(self.time_limit))
        try:
            return eval(code, env)  # noqa: S307 - code compiled by RestrictedPython
        except _Deadline:
            raise SandboxTimeout("Kịch bản chạy quá thời gian cho phép") from None
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
