"""GET /healthz: is the web process up and can it reach the database."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify({"status": "ok", "database": "ok"})
    except SQLAlchemyError as exc:
        return jsonify({"status": "degraded", "database": str(exc.__class__.__name__)}), 503
