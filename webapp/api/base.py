"""What every API blueprint shares: URL prefix, request-shape errors, error documentation."""
from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from werkzeug.exceptions import BadRequest

from engine.domain.messages import Message
from webapp.errors import HTTP_MESSAGES, error_response

PREFIX = "/api/v1"
BEARER_CHALLENGE = 'Bearer realm="api"'

INVALID_REQUEST = Message("Dữ liệu gửi lên không đúng định dạng.", "The request body or query is malformed.")
# marshmallow/webargs speak English; the common ones are given in Vietnamese too.
FIELD_MESSAGES_VI = {
    "Missing data for required field.": "Thiếu trường bắt buộc.",
    "Unknown field.": "Trường không được hỗ trợ.",
    "Field may not be null.": "Trường không được để trống (null).",
    "Not a valid string.": "Phải là chuỗi ký tự.",
    "Not a valid integer.": "Phải là số nguyên.",
    "Not a valid mapping type.": "Phải là một đối tượng JSON.",
    "Invalid input type.": "Phải là một đối tượng JSON.",
    "Invalid JSON body.": "Nội dung không phải JSON hợp lệ.",
}


def _field_message(text: str) -> Message:
    if text.startswith("Must be one of:"):
        return Message("Giá trị phải là một trong:" + text.removeprefix("Must be one of:"), text)
    if text.startswith("Length must be"):
        return Message("Độ dài không hợp lệ.", text)
    return Message(FIELD_MESSAGES_VI.get(text, "Giá trị không hợp lệ."), text)


def _flatten(messages: Any, path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """webargs' nested {location: {field: [text]}} as a list of {location, path, message}."""
    if isinstance(messages, dict):
        return [item for key, value in messages.items() for item in _flatten(value, (*path, str(key)))]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        location, *rest = path or ("",)
        field = ".".join(p for p in rest if p != "_schema")
        return [{"location": location, "path": field, "message": _field_message(m).as_dict()}
                for m in messages]
    return [{"location": path[0] if path else "", "path": ".".join(path[1:]),
             "message": _field_message(str(messages)).as_dict()}]


def on_bad_request(error: BadRequest) -> Any:
    """webargs attaches what was wrong as `data["messages"]`; other 400s keep the usual answer."""
    messages = (getattr(error, "data", None) or {}).get("messages")
    if messages is None:
        return error_response("http_400", HTTP_MESSAGES[400], 400)
    return error_response("invalid_request", INVALID_REQUEST, 400, _flatten(messages))


def no_store(response: Response) -> Response:
    # Answers carry tokens and dossiers: never keep them in shared caches.
    response.headers.setdefault("Cache-Control", "no-store")
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    return response


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    blp = Blueprint(name, import_name, url_prefix=PREFIX, description=description)
    blp.register_error_handler(BadRequest, on_bad_request)
    blp.after_request(no_store)
    return blp


def documents_errors(blp: Blueprint, *codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Documents the error answers of a view (the platform's error shape)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        for code in codes:
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view
    return decorate
