"""Maps domain errors and HTTP errors to pages or JSON, in the user's language."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.domain import errors as domain
from engine.domain.messages import Message
from webapp.platform import text

STATUS = {
    domain.InvalidData: 400, domain.PublishRefused: 400, domain.AuthFailed: 401,
    domain.Forbidden: 403, domain.NotFound: 404, domain.Conflict: 409, domain.RateLimited: 429,
}
HTTP_MESSAGES = {
    400: Message("Yêu cầu không hợp lệ.", "Bad request."),
    401: Message("Vui lòng đăng nhập.", "Please sign in."),
    403: Message("Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."),
    404: Message("Không tìm thấy trang hoặc dữ liệu.", "Not found."),
    405: Message("Phương thức không được hỗ trợ.", "Method not allowed."),
    413: Message("Tệp hoặc dữ liệu gửi lên quá lớn.", "The upload is too large."),
    429: Message("Quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests."),
    500: Message("Lỗi hệ thống. Dữ liệu của bạn không bị thay đổi.", "Server error. Nothing was changed."),
}
CSRF_MESSAGE = Message("Phiên làm việc đã hết hạn hoặc yêu cầu không hợp lệ (CSRF). Vui lòng tải lại trang.",
                       "The form expired or the request was forged (CSRF). Reload the page.")


def status_of(error: domain.DomainError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(error, cls)), 400)


def details_json(error: domain.DomainError) -> Any:
    details = error.details
    if isinstance(details, list):
        return [d.as_dict() if hasattr(d, "as_dict") else d for d in details]
    return details


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a page route that a script calls: its errors answer in the API's JSON shape."""
    view.json_errors = True  # type: ignore[attr-defined]
    return view


def wants_json() -> bool:
    """The API, the health check, and routes marked with `json_errors`."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "json_errors", False))


def error_response(code: str, message: Message, status: int, details: Any = None) -> Any:
    if wants_json():
        body = {"error": {"code": code, "message": message.vi, "message_en": message.en}}
        if details is not None:
            body["error"]["details"] = details
        return jsonify(body), status
    return render_template("error.html", status=status, message=text(message)), status


def init_app(app: Flask) -> None:
    @app.errorhandler(domain.DomainError)
    def on_domain_error(error: domain.DomainError) -> Any:
        return error_response(error.code, error.message, status_of(error), details_json(error))

    @app.errorhandler(CSRFError)
    def on_csrf(error: CSRFError) -> Any:
        return error_response("csrf", CSRF_MESSAGE, 400)

    @app.errorhandler(HTTPException)
    def on_http(error: HTTPException) -> Any:
        status = error.code or 500
        message = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400 if status < 500 else 500])
        return error_response(f"http_{status}", message, status)

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Any:
        app.logger.exception("unhandled error")
        return error_response("internal", HTTP_MESSAGES[500], 500)
