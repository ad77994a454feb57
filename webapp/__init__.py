"""The Flask web app: pages, JSON API and CLI over the engine's services."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.persistence.db import configure_engine, engine_options
from engine.settings import Settings
from webapp.extensions import babel, csrf, db, login_manager, migrate

LANGUAGES = ("vi", "en")


def _secret_key(instance_path: str) -> str:
    """A per-installation key kept under instance/, made on first start."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def select_locale() -> str:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return session.get("lang", "vi")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` may carry PLATFORM_SETTINGS (engine Settings) and Flask keys."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    config = dict(config or {})
    settings: Settings = config.pop("PLATFORM_SETTINGS", None) or Settings.from_env()
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        WTF_CSRF_TIME_LIMIT=None,
        PLATFORM_SETTINGS=settings,
    )
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _secret_key(app.instance_path)

    if settings.proxy_hops > 0:
        n = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(lambda: {"lang": str(get_locale() or "vi")})

    from webapp.platform import build_services
    app.extensions["platform"] = build_services(settings)

    from webapp import (
        admin,
        api,
        attachments,
        auth,
        calendar_admin,
        cli,
        credentials,
        dti,
        errors,
        exports,
        formatting,
        health,
        hotline,
        hotline_board,
        incidents,
        instances,
        knowledge_base,
        meeting_rules,
        meetings,
        notifications,
        procedures,
        public_hotline,
        reports,
        security,
        tasks,
    )
    for module in (auth, procedures, tasks, instances, admin, calendar_admin, reports, health, exports,
                   incidents, attachments, meetings, meeting_rules, dti, knowledge_base,
                   public_hotline, hotline, hotline_board):
        app.register_blueprint(module.bp)
    for module in (credentials, notifications, api, errors, formatting, security, cli):
        module.init_app(app)
    return app
