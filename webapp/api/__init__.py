"""The JSON API under /api/v1 (flask-smorest), signed in with bearer tokens, spec at openapi.json."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from webapp.api import (
    attachments,
    auth,
    calendar,
    documents,
    dti,
    hotline,
    hotline_stats,
    hotline_webhook,
    incidents,
    instances,
    knowledge_base,
    meeting_rules,
    meetings,
    processes,
    tasks,
)
from webapp.api.base import PREFIX
from webapp.api.schemas import ErrorSchema
from webapp.extensions import csrf

BLUEPRINTS = (auth.blp, processes.blp, instances.blp, tasks.blp, calendar.blp, documents.blp, attachments.blp,
              incidents.blp, meetings.blp, meeting_rules.blp, dti.blp, knowledge_base.blp,
              hotline_webhook.blp, hotline.blp, hotline_stats.blp)


class PlatformApi(Api):
    """Documents the platform's error shape and leaves error handling to webapp.errors."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # flask-smorest's HTTPException handler answers in its own shape; webapp.errors
        # already answers every error under /api/ (domain errors included) in ours.
        pass


def init_app(app: Flask) -> None:
    config: dict[str, Any] = {
        "API_TITLE": "Quy trình nội bộ API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        # No Swagger UI / ReDoc: they load scripts from CDNs, which the CSP forbids.
        "API_SPEC_OPTIONS": {"security": [{"bearerAuth": []}]},
    }
    for key, value in config.items():
        app.config.setdefault(key, value)
    api = PlatformApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
        # Bearer tokens only, never the session cookie: nothing for a forged form to ride on.
        csrf.exempt(blueprint)
