"""Server-side checks of form-js 1.x schemas and of the data submitted for them."""
from __future__ import annotations

from engine.forms.common import MAX_ROWS
from engine.forms.messages import REQUIRED
from engine.forms.schema import FormSchemaError, check_schema, load_form
from engine.forms.submission import FieldError, input_fields, validate_submission

__all__ = [
    "MAX_ROWS", "REQUIRED", "FieldError", "FormSchemaError", "check_schema", "input_fields", "load_form",
    "validate_submission",
]
