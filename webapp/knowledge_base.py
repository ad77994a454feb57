"""Hotline 1022 knowledge base pages (docs/hotline.md): the operators' search (/hotline/kb), the article editor,
and the public questions-and-answers page (/cong-khai/hoi-dap, no login, published articles only)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.errors import InvalidData
from engine.domain.hotline import BOARD_ROLES, CONTACT_ROLES, FIELDS, FIELDS_BY_CODE
from engine.persistence.models import User
from engine.services import knowledge_base as kb
from webapp.platform import services, text, uow

bp = Blueprint("knowledge_base", __name__)


def _user() -> User | None:
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


@bp.app_template_global()
def kb_editor() -> bool:
    """For the navigation bar and pages: the signed-in user writes knowledge-base articles."""
    return kb.is_editor(_user())


#: The hotline's pages, in the order of its tab bar: (endpoint, Vietnamese label, who sees it). A page whose
#: blueprint is not registered is left out.
HOTLINE_TABS = (
    ("hotline.console", "Tiếp nhận", CONTACT_ROLES),
    ("hotline_board.tickets", "Danh sách phiếu", BOARD_ROLES),
    ("hotline_board.board", "Giám sát trực tuyến", BOARD_ROLES),
    ("hotline_board.statistics", "Thống kê", BOARD_ROLES),
    ("knowledge_base.search_page", "Hỏi đáp", frozenset({"tong_dai_vien", "quan_tri"})),
)


@bp.app_template_global()
def hotline_tabs() -> list[tuple[str, str]]:
    """The hotline tabs the signed-in user may open, as (endpoint, translated label)."""
    user = _user()
    if user is None:
        return []
    roles = user.role_codes
    return [(endpoint, _(label)) for endpoint, label, allowed in HOTLINE_TABS
            if endpoint in current_app.view_functions and not allowed.isdisjoint(roles)]


@bp.app_template_global()
def kb_field_label(code: str) -> str:
    found = FIELDS_BY_CODE.get(code)
    return found.label(str(get_locale() or "vi")) if found else code


def _search(public: bool) -> dict[str, Any]:
    """The view model of a search page or its results fragment, from ?q= and ?field=."""
    query, field = request.args.get("q", ""), request.args.get("field", "")
    error = None
    result = None
    with uow() as work:
        try:
            result = kb.search(work, None if public else _user(), query, field or None,
                               published_only=public, limit=kb.MAX_RESULTS if public else 20)
        except InvalidData as err:
            error = text(err.message)
        return {"q": query, "field": field, "fields": FIELDS, "error": error, "public": public,
                "articles": list(result.articles) if result else [], "total": result.total if result else 0,
                "editor": not public and kb_editor(),
                "results_url": url_for("knowledge_base.public_results" if public else "knowledge_base.results")}


@bp.get("/hotline/kb")
@login_required
def search_page() -> Any:
    return render_template("hotline/kb_search.html", **_search(public=False))


@bp.get("/hotline/kb/ket-qua")
@login_required
def results() -> Any:
    """The results list alone, fetched by the page as the operator types (webapp/static/src/kb_search.js)."""
    return render_template("hotline/_kb_results.html", **_search(public=False))


@bp.get("/cong-khai/hoi-dap")
def public_page() -> Any:
    return render_template("hotline/kb_public.html", **_search(public=True))


@bp.get("/cong-khai/hoi-dap/ket-qua")
def public_results() -> Any:
    return render_template("hotline/_kb_results.html", **_search(public=True))


def _editor_or_403() -> User:
    user = _user()
    if not kb.is_editor(user):
        abort(403)
    assert user is not None
    return user


def _form() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in ("field", "question", "answer", "keywords")}


def _render_editor(article_id: int | None, values: dict[str, str], errors: dict[str, str] | None = None,
                   published: bool = False, status: int = 200) -> Any:
    return render_template("hotline/kb_edit.html", article_id=article_id, values=values, errors=errors or {},
                           fields=FIELDS, published=published), status


@bp.route("/hotline/kb/moi", methods=["GET", "POST"])
@login_required
def new() -> Any:
    user = _editor_or_403()
    if request.method == "GET":
        return _render_editor(None, {"field": request.args.get("field", ""), "question": "", "answer": "",
                                     "keywords": ""})
    with uow() as work:
        try:
            article = kb.create(work, user, _form(), publish=request.form.get("action") == "publish",
                                clock=services().now)
        except InvalidData as err:
            flash(text(err.message), "danger")
            return _render_editor(None, _form(), {p.path: text(p.message) for p in err.details or []}, status=400)
        saved = _("Đã lưu câu hỏi – trả lời (chưa công bố).")
        flash(_("Đã công bố câu hỏi – trả lời.") if article.is_published else saved, "success")
        return redirect(url_for("knowledge_base.edit", article_id=article.id))


@bp.route("/hotline/kb/<int:article_id>", methods=["GET", "POST"])
@login_required
def edit(article_id: int) -> Any:
    user = _editor_or_403()
    with uow() as work:
        article = kb.get(work, user, article_id)
        if request.method == "GET":
            values = {"field": article.field, "question": article.question, "answer": article.answer,
                      "keywords": article.keywords}
            return _render_editor(article.id, values, published=article.is_published)
        try:
            article = kb.edit(work, user, article_id, _form(), clock=services().now)
        except InvalidData as err:
            flash(text(err.message), "danger")
            return _render_editor(article_id, _form(), {p.path: text(p.message) for p in err.details or []},
                                  published=article.is_published, status=400)
        action = request.form.get("action")
        if action in ("publish", "unpublish"):
            kb.set_published(work, user, article_id, action == "publish", clock=services().now)
        flash(_("Đã lưu câu hỏi – trả lời."), "success")
    return redirect(url_for("knowledge_base.edit", article_id=article_id))


@bp.post("/hotline/kb/<int:article_id>/xoa")
@login_required
def delete(article_id: int) -> Any:
    user = _editor_or_403()
    with uow() as work:
        kb.delete(work, user, article_id)
    flash(_("Đã xóa câu hỏi – trả lời."), "success")
    return redirect(url_for("knowledge_base.search_page"))
