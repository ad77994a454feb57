"""One-time password links: the page a link opens, and the one reveal (docs/credentials.md).

No sign-in: the person may have no platform account; the token in the address is the credential.
GET only says which account the link is for (mail scanners and previews fetch links), the POST
(with CSRF) shows the password once. Tokens are kept out of the request log (`HideLinkTokens`).
"""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Flask, Response, make_response, render_template

from engine.domain.errors import DomainError, NotFound
from engine.services import credentials
from engine.services.credentials import LinkGone
from webapp.platform import services, text, uow

bp = Blueprint("credentials", __name__)

_IN_PATH = re.compile(re.escape(credentials.LINK_PATH) + r"[^\s/?#\"']+")
#: Loggers that write request lines: the development server's and gunicorn's access log.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")


def _private(response: Response) -> Response:
    """Nothing of these pages is kept by a cache or sent on as a referrer, nor indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _private(make_response(render_template(template, **context), status))


def _refused(error: DomainError) -> Response:
    gone = isinstance(error, LinkGone)
    return _page("credentials/unavailable.html", 410 if gone else 404, message=text(error.message),
                 reason=error.details if gone else "unknown")


@bp.get("/credentials/<token>")
def show(token: str) -> Response:
    with uow() as work:
        try:
            link = credentials.peek(work, token, services().now())
        except (NotFound, LinkGone) as err:
            return _refused(err)
        return _page("credentials/link.html", link=link, token=token)


@bp.post("/credentials/<token>")
def reveal(token: str) -> Response:
    with uow() as work:
        try:
            revealed = credentials.reveal(work, token, services().now())
        except (NotFound, LinkGone) as err:
            return _refused(err)
    return _page("credentials/revealed.html", revealed=revealed)


def mask_links(value: str) -> str:
    """A log text with every link token replaced by ***."""
    return _IN_PATH.sub(credentials.LINK_PATH + "***", value)


class HideLinkTokens(logging.Filter):
    """Masks the token of `/credentials/<token>` in a log record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_links(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_links(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's access log: its atoms, changed in place
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = mask_links(value)
        return True


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, HideLinkTokens) for f in logger.filters):
            logger.addFilter(HideLinkTokens())
