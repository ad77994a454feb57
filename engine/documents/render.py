"""Rendering a DOCX template (docxtpl) with instance data inside a Jinja sandbox.

Templates are edited by administrators in Word, and the data come from forms filled by anyone:
- the environment is an immutable Jinja sandbox (no `__class__`, no mutating the data, ranges
  bounded, big string or number products refused) with autoescape on, so `<b>&` typed in a form
  shows literally in Word and cannot break the document's XML;
- keys naming secrets (password, mat_khau, token, secret) never reach the template;
- rendering has a time budget, so a template looping for ever cannot hold the register row.
"""
from __future__ import annotations

import io
import re
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import TemplateError, TemplateSyntaxError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from lxml import etree

from engine.documents.vietnamese import date_words, signing_authority, two_digits
from engine.domain.messages import Message
from engine.domain.secrets import is_secret

#: Seconds one rendering may take: far above a real template's few hundred milliseconds.
RENDER_SECONDS = 20.0
#: Longest text or list a template may build with `*` (protects memory, not layout).
MAX_PRODUCT = 1_000_000
#: Largest result of `**` on whole numbers, in bits (Jinja's `**` chains left to right).
MAX_POWER_BITS = 100_000
#: The names the issuer sets; data keys with these names are replaced.
RESERVED = ("van_ban", "co_quan", "ho_so")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
# XML 1.0 forbids most C0 controls; \a and \f would also make docxtpl split paragraphs or pages.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LIST_MARK = re.compile(r"^\s*[-+•*–]\s*")


class RenderError(Exception):
    """The template could not be rendered; `message` says why, for the incident and the history."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.vi)
        self.message = message


class _Deadline(BaseException):
    """Raised by the trace function; a BaseException so that no template code can catch it."""


# ---------------------------------------------------------------- filters

def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = _ISO_DATE.match(value.strip())
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def ngay(value: Any) -> Any:
    """Filter `ngay`: a date, datetime or ISO date text as dd/mm/yyyy; anything else unchanged."""
    day = _as_date(value)
    return day.strftime("%d/%m/%Y") if day else value


def ngay_chu(value: Any) -> Any:
    """Filter `ngay_chu`: a date in words, "ngày 05 tháng 02 năm 2026"; anything else unchanged."""
    day = _as_date(value)
    return date_words(day) if day else value


def dong(value: Any) -> list[str]:
    """Filter `dong`: the non-empty lines of a text (or the items of a list), trimmed."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).splitlines()
    return [str(item).strip() for item in items if str(item).strip()]


def muc(value: Any) -> list[str]:
    """Filter `muc`: list items without their marks: "- Như trên;" → "Như trên"."""
    cleaned = (_LIST_MARK.sub("", line).rstrip(";,. ").strip() for line in dong(value))
    return [line for line in cleaned if line]


def so(value: Any) -> Any:
    """Filter `so`: a whole number with the decree's leading zero below 10 ("05")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return two_digits(int(value))
    return value


def _finalize(value: Any) -> Any:
    """What `{{ … }}` prints: nothing for None, dates as dd/mm/yyyy."""
    if value is None:
        return ""
    day = _as_date(value) if isinstance(value, (date, str)) else None
    if day is not None and (not isinstance(value, str) or len(value.strip()) == 10):
        return day.strftime("%d/%m/%Y")
    return value


class DocumentEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox every document template runs in."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() * right > MAX_POWER_BITS:
            raise SecurityError(f"a power above {MAX_POWER_BITS} bits refused")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) \
                        and len(seq) * times > MAX_PRODUCT:
                    raise SecurityError(f"a product longer than {MAX_PRODUCT} items refused")
        return super().call_binop(context, operator, left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # Jinja's default prints an unsafe access as empty text; an official document must not be
        # issued with a silently missing part, so the attempt fails the rendering instead.
        raise SecurityError(f"access to attribute {attribute!r} of a {type(obj).__name__} is unsafe")


def environment() -> DocumentEnvironment:
    """A fresh sandboxed environment with autoescape and the document filters."""
    env = DocumentEnvironment(autoescape=True, finalize=_finalize)
    env.filters.update(ngay=ngay, ngay_chu=ngay_chu, dong=dong, muc=muc, so=so,
                       quyen_han=signing_authority)
    # `safe` would let form data write raw Word XML into the document.
    del env.filters["safe"]
    return env


# ---------------------------------------------------------------- context

def _clean(value: Any) -> Any:
    """Data as the template sees them: no secret keys, no control characters."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items() if not is_secret(k)}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value


def build_context(data: Mapping[str, Any], *, van_ban: Mapping[str, Any], co_quan: Mapping[str, Any],
                  ho_so: Mapping[str, Any]) -> dict[str, Any]:
    """The instance data plus `van_ban`, `co_quan` and `ho_so`, which win over data of that name."""
    context = _clean({k: v for k, v in data.items() if k not in RESERVED})
    context.update(van_ban=_clean(van_ban), co_quan=_clean(co_quan), ho_so=_clean(ho_so))
    return context


# ---------------------------------------------------------------- rendering

@contextmanager
def _budget(seconds: float) -> Iterator[None]:
    """Stop template code once `seconds` have passed (per-thread tracing, works in any thread)."""
    deadline = time.monotonic() + seconds

    def local(frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _Deadline
        return local

    def trace(frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _Deadline
        # Only compiled templates are traced line by line: their loops are what can run away.
        return local if frame.f_code.co_filename == "<template>" else None

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        yield
    finally:
        sys.settrace(previous)


def _template_error(exc: Exception) -> Message:
    if isinstance(exc, SecurityError):
        return Message(f"Mẫu văn bản dùng thao tác không được phép trong hộp cát ({exc}); "
                       "không phát hành văn bản.",
                       f"The template uses an operation the sandbox forbids ({exc}); nothing was issued.")
    if isinstance(exc, TemplateSyntaxError):
        return Message(f"Mẫu văn bản có lỗi cú pháp: {exc.message}",
                       f"The template has a syntax error: {exc.message}")
    return Message(f"Không điền được mẫu văn bản: {exc}", f"The template could not be filled in: {exc}")


def render_docx(template: bytes, context: Mapping[str, Any], seconds: float = RENDER_SECONDS) -> bytes:
    """The DOCX made from `template` with `context`; RenderError when the template fails."""
    document = DocxTemplate(io.BytesIO(template))
    try:
        with _budget(seconds):
            document.render(dict(context), jinja_env=environment(), autoescape=True)
    except _Deadline:
        raise RenderError(Message(f"Mẫu văn bản chạy quá {seconds:g} giây; không phát hành văn bản.",
                                  f"The template ran longer than {seconds:g} s; nothing was issued.")) from None
    except TemplateError as exc:
        raise RenderError(_template_error(exc)) from None
    except etree.LxmlError as exc:
        # Tags that cut through Word's structure (an {% if %} opened in one table cell and closed
        # in another) leave XML that does not parse.
        raise RenderError(Message(f"Mẫu văn bản tạo ra tài liệu hỏng ({exc}); kiểm tra các thẻ {{% %}}.",
                                  f"The template produced a broken document ({exc}); check its {{% %}} tags.")) \
            from None
    except Exception as exc:  # noqa: BLE001 - template code can raise any Python error (1/0, a range too big)
        raise RenderError(_template_error(exc)) from None
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
