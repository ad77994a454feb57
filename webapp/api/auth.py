"""API sign-in: a bearer token for username and password, and the check on every other call."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import request

from engine.domain.errors import AuthFailed
from engine.domain.messages import Message
from engine.persistence.models import User
from engine.services import identity
from webapp.api.base import api_blueprint, documents_errors
from webapp.api.schemas import TokenRequestSchema, TokenSchema
from webapp.platform import services, uow

blp = api_blueprint("api_auth", __name__, "Xác thực: lấy mã truy cập (bearer token).")

NO_TOKEN = Message("Thiếu mã truy cập. Gửi tiêu đề Authorization: Bearer <mã>.",
                   "Missing access token. Send the header Authorization: Bearer <token>.")
BAD_TOKEN = Message("Mã truy cập không hợp lệ hoặc đã hết hạn. Vui lòng lấy mã mới.",
                    "The access token is invalid or expired. Get a new one.")


def bearer_user() -> User:
    """The user of the request's bearer token; the session cookie is never looked at."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthFailed(NO_TOKEN)
    with uow() as work:
        user = identity.user_for_token(work, token, services().now())
    if user is None:
        raise AuthFailed(BAD_TOKEN)
    return user


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Passes the token's user as `user`; put it right under `@blp.route` so it runs first."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, user=bearer_user(), **kwargs)
    return wrapper


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema, error_status_code=400)
@blp.response(200, TokenSchema)
@documents_errors(blp, 400, 401, 429)
@blp.doc(security=[], summary="Lấy mã truy cập",
         description="Mã có hiệu lực 8 giờ; gửi kèm mỗi yêu cầu trong tiêu đề Authorization: Bearer <mã>.")
def token(body: dict[str, Any]) -> Any:
    with uow() as work:
        user = identity.sign_in(work, services().settings, body["username"], body["password"],
                                request.remote_addr or "", services().now(), via="api")
        value, expires = identity.issue_token(work, user, services().now())
        work.commit()
    return {"token": value, "expires_at": expires}
