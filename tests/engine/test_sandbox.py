"""Scripts and expressions of a published procedure: hostile code is refused or stopped."""
from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from engine.bpmn.functions import calendar_functions, national_calendar
from engine.bpmn.sandbox import (
    RestrictedEnvironment,
    SandboxError,
    SandboxTimeout,
    check_expression,
    check_script,
)

add_working_days = calendar_functions(national_calendar)["add_working_days"]

TIME_LIMIT = 0.3
WATCHDOG = 15.0  # seconds: a broken budget fails the test instead of hanging the run


def sandbox(**functions: Callable[..., Any]) -> RestrictedEnvironment:
    return RestrictedEnvironment(functions, time_limit=TIME_LIMIT)


def watched(action: Callable[[], Any]) -> Any:
    """Run `action` in a daemon thread; fail, rather than hang, when it does not come back."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(WATCHDOG)
    assert outcome, f"still running after {WATCHDOG}s: the time budget was escaped"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def run(script: str, data: dict[str, Any] | None = None, **functions: Callable[..., Any]) -> dict[str, Any]:
    """Execute `script` over a copy of `data`; returns the resulting data."""
    context = dict(data or {})
    watched(lambda: sandbox(**functions).execute(script, context))
    return context


def evaluate(expression: str, data: dict[str, Any] | None = None, **functions: Callable[..., Any]) -> Any:
    return sandbox(**functions).evaluate(expression, dict(data or {}))


# ---------------------------------------------------------------- refused before running

REFUSED_SCRIPTS = {
    "import": "import os",
    "from-import": "from os import path",
    "dunder import": "__import__('os')",
    "class walk": "x = ().__class__.__bases__",
    "dunder subscript name": "x = {}.__dict__",
    "eval": "eval('1 + 1')",
    "exec": "exec('x = 1')",
    "finally": "try:\n    x = 1\nfinally:\n    x = 2\n",
    "syntax": "for x in :\n    pass\n",
}


@pytest.mark.parametrize("source", REFUSED_SCRIPTS.values(), ids=REFUSED_SCRIPTS.keys())
def test_hostile_script_is_refused_with_a_reason(source: str) -> None:
    reason = check_script(source)
    assert reason  # publishing shows this text to the modeller
    with pytest.raises(SandboxError):
        run(source)


def test_reasons_name_the_problem() -> None:
    assert "import" in (check_script("import os") or "")
    assert "__class__" in (check_script("x = y.__class__") or "")
    assert "finally" in (check_script("try:\n    pass\nfinally:\n    pass\n") or "")
    assert "__class__" in (check_expression("amount.__class__") or "")
    assert check_expression("amount >") is not None
    assert check_expression("x = 1") is not None  # a statement is not an expression


def test_valid_code_has_no_reason() -> None:
    assert check_script("rows = []\nfor i, r in enumerate(items):\n    rows.append(r)\n") is None
    assert check_script("try:\n    x = y\nexcept:\n    x = None\n") is None
    assert check_expression("amount > 5 and ten_don_vi != ''") is None


# ---------------------------------------------------------------- refused while running


@pytest.mark.parametrize("source, error", [
    ("x = getattr(1, '__class__')", NameError),   # no getattr in the sandbox
    ("x = open('/etc/passwd').read()", NameError),
    ("x = type(1)", NameError),
    ("x = globals()", NameError),
    ("raise SystemExit", NameError),              # would stop the worker
    ("x = '{0.__class__}'.format(1)", NotImplementedError),
    ("x = range(10 ** 12)", SandboxError),  # sum() over it would loop in C, unwatched
], ids=["getattr", "open", "type", "globals", "SystemExit", "str.format", "huge range"])
def test_hostile_script_fails_without_effect(source: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        run(source)


def test_hostile_expression_fails() -> None:
    with pytest.raises(NameError):
        evaluate("getattr(amount, '__class__')", {"amount": 1})
    with pytest.raises(SandboxError):
        evaluate("amount.__class__.__bases__", {"amount": 1})


# ---------------------------------------------------------------- time budget

ENDLESS_SCRIPTS = {
    "while": "while True:\n    pass\n",
    "infinite generator in a comprehension": (
        "def naturals():\n    n = 0\n    while True:\n        yield n\n        n += 1\n"
        "x = [n for n in naturals()]\n"),
    "generator in sum": (
        "def ones():\n    while True:\n        yield 1\n"
        "x = sum(v for v in ones())\n"),
    "catch the timeout, loop again": (
        "try:\n    while True:\n        pass\nexcept:\n    pass\nwhile True:\n    pass\n"),
    "catch Exception, loop again": (
        "try:\n    while True:\n        pass\nexcept Exception:\n    pass\nwhile True:\n    pass\n"),
    "shadowed exception name turns the timeout into TypeError": (
        "NameError = 1\ndef f():\n    pass\n"
        "try:\n    try:\n        while True:\n            f()\n    except NameError:\n        pass\n"
        "except Exception:\n    pass\nwhile True:\n    pass\n"),
    "handler expression loops": (
        "def spin():\n    while True:\n        pass\n"
        "try:\n    while True:\n        pass\nexcept spin():\n    pass\n"),
}


@pytest.mark.parametrize("source", ENDLESS_SCRIPTS.values(), ids=ENDLESS_SCRIPTS.keys())
def test_endless_script_is_stopped(source: str) -> None:
    assert check_script(source) is None  # valid code: only the budget can stop it
    with pytest.raises(SandboxTimeout):
        run(source)


def test_generator_closed_after_the_script_cannot_run_code() -> None:
    # Closing a suspended generator throws GeneratorExit into it, outside any budget:
    # no handler may catch that.
    script = (
        "def g():\n    try:\n        yield 1\n    except:\n        while True:\n            pass\n"
        "gen = g()\nfor v in gen:\n    break\n")

    def scenario() -> int:
        context: dict[str, Any] = {}
        sandbox().execute(script, context)
        first = context["v"]
        context.clear()
        gc.collect()  # the generator sits in a cycle with the script's globals: closed here
        return first

    assert watched(scenario) == 1


def test_budget_is_per_run_and_tracing_is_restored() -> None:
    before = sys.gettrace()
    env = sandbox()
    with pytest.raises(SandboxTimeout):
        env.execute("while True:\n    pass\n", {})
    assert sys.gettrace() is before
    context: dict[str, Any] = {}
    env.execute("x = 1 + 1", context)  # a spent budget does not carry over
    assert context == {"x": 2}


# ---------------------------------------------------------------- allowed


def test_ordinary_scripts_work() -> None:
    script = """
rows = []
totals = {}
for i, item in enumerate(sorted(items, key=lambda r: r["ten"])):
    rows.append({"stt": i + 1, "ten": item["ten"].upper()})
    totals[item["loai"]] = totals.get(item["loai"], 0) + 1
total = sum(len(r["ten"]) for r in rows)
count = 0
while count < 3:
    count += 1
try:
    missing = chua_co
except NameError:
    missing = None
"""
    data = {"items": [{"ten": "Hoa", "loai": "ca_nhan"}, {"ten": "An", "loai": "ca_nhan"},
                      {"ten": "VP", "loai": "tap_the"}]}
    result = run(script, data)
    assert result["rows"] == [{"stt": 1, "ten": "AN"}, {"stt": 2, "ten": "HOA"}, {"stt": 3, "ten": "VP"}]
    assert result["totals"] == {"ca_nhan": 2, "tap_the": 1}
    assert (result["total"], result["count"], result["missing"]) == (7, 3, None)
    assert result["items"] == data["items"]


def test_injected_functions_work_and_do_not_leak_into_data() -> None:
    def today() -> date:
        return date(2026, 11, 27)  # a Friday

    add_working_days(date(2026, 11, 27), 1)  # the year's holidays read once, outside the script's budget
    result = run("han = add_working_days(today(), 1)\ndef local_helper():\n    return 1\n",
                 {"ho_so": 1}, today=today, add_working_days=add_working_days)
    assert result == {"ho_so": 1, "han": date(2026, 11, 30)}  # Monday: the weekend skipped
    assert evaluate("add_working_days(today(), 2) > today()", today=today,
                    add_working_days=add_working_days) is True


def test_expressions_read_task_data() -> None:
    assert evaluate("amount > 5", {"amount": 7}) is True
    assert evaluate("[r['ho_ten'] for r in rows if r['ok']]",
                    {"rows": [{"ho_ten": "An", "ok": True}, {"ho_ten": "Hoa", "ok": False}]}) == ["An"]


def test_task_data_cannot_replace_the_guards() -> None:
    # A data key named like a guard must not switch the guard off.
    result = run("x = [c for c in 'ab']\ny = {}\ny['k'] = 1\n", {"_getiter_": "no", "_write_": "no"})
    assert (result["x"], result["y"]) == (["a", "b"], {"k": 1})


def test_dates_format_and_parse_in_scripts() -> None:
    """strftime/strptime import `time` inside the interpreter: allowed, and only those modules."""
    from datetime import datetime
    result = run("text = when.strftime('%d/%m/%Y %H:%M')\nparsed = datetime.strptime('03/12/2026', '%d/%m/%Y')",
                 {"when": datetime(2026, 12, 3, 8, 30)}, datetime=datetime)
    assert result["text"] == "03/12/2026 08:30"
    assert result["parsed"] == datetime(2026, 12, 3)
    with pytest.raises(ImportError):
        from engine.bpmn.sandbox import _internal_import
        _internal_import("os")
