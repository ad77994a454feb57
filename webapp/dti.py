"""Pages of the digital transformation index (DTI, chỉ số chuyển đổi số): index sets, rounds, a unit's
scoring sheet, the ranking; and the small JSON calls the sheet's script makes (session and CSRF token).

Handlers read the request and call one use case of engine.services.dti_*; the rules (who may, what is
valid) are there. The JSON API for other systems is webapp/api/dti.py; docs/dti.md describes the pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import exists, or_, select

from engine.domain.dti import IndexSetState, ScoringMethod, UnitGroup, UnitPhase, points_text
from engine.domain.errors import Forbidden, InvalidData
from engine.persistence.models import DtiRound, DtiRoundUnit, Unit, User
from engine.services import (
    dti_access,
    dti_evidence,
    dti_index,
    dti_ranking,
    dti_report,
    dti_rounds,
    dti_scores,
    dti_sheet,
)
from engine.services.dti_evidence import EvidenceFile
from engine.services.dti_scores import Saved
from engine.settings import ROOT
from webapp.attachments import allow_upload_size
from webapp.downloads import attachment
from webapp.errors import json_errors
from webapp.extensions import csrf
from webapp.formatting import datetime_local
from webapp.platform import services, text, uow

bp = Blueprint("dti", __name__, url_prefix="/dti")

EXAMPLE_FILE = ROOT / "processes" / "dti" / "bo_chi_so_mau.xlsx"
UNIT = "/rounds/<int:round_id>/units/<unit_code>"
SCORE = UNIT + "/scores/<code>"
#: The field of each unit step's form that the sheet's completion box fills, with its label.
STEP_FIELDS = {
    UnitPhase.SELF: ("bao_cao_tu_danh_gia", "Tóm tắt báo cáo tự đánh giá (không bắt buộc)", False),
    UnitPhase.EXPERT: ("nhan_xet_danh_gia", "Nhận xét chung của Sở TT&TT", True),
    UnitPhase.RESPONSE: ("y_kien_chung", "Ý kiến chung của đơn vị (không bắt buộc)", False),
    UnitPhase.REVIEW: ("ket_luan_xem_xet", "Kết luận xem xét phản hồi", True),
}


def manager_required() -> None:
    if not dti_index.may_manage(current_user, services()):
        raise Forbidden(dti_index.NOT_MANAGER)


@bp.app_template_global()
def dti_visible() -> bool:
    """The nav item: for index managers, and anyone a round concerns (evaluator, approver, participant, or
    any published round)."""
    user: User = current_user
    if dti_index.may_manage(user, services()):
        return True
    with uow() as work:
        return bool(work.session.scalar(select(exists().where(or_(
            DtiRound.evaluator_unit_id == user.unit_id, DtiRound.approver_unit_id == user.unit_id,
            DtiRound.state == "da_cong_bo",
            DtiRound.id.in_(select(DtiRoundUnit.round_id).where(DtiRoundUnit.unit_id == user.unit_id)))))))


@bp.app_template_filter("dti_message")
def message_filter(message: Any) -> str:
    """A Message (or an enum's label) in the page's language."""
    return text(message)


@bp.app_template_filter("dti_points")
def points_filter(centi: int | None) -> str:
    return points_text(centi)


# ---------------------------------------------------------------- home: rounds


@bp.get("")
@login_required
def home() -> Any:
    with uow() as work:
        rounds = dti_rounds.rounds(work, services(), current_user)
        return render_template("dti/home.html", rounds=rounds,
                               manages=dti_index.may_manage(current_user, services()))


# ---------------------------------------------------------------- index sets


def _sets_page(errors: InvalidData | None = None, status: int = 200) -> Any:
    with uow() as work:
        sets = dti_index.index_sets(work, services(), current_user)
        return render_template("dti/index_sets.html", sets=sets, error=errors, form=request.form,
                               max_excel_bytes=services().settings.max_excel_bytes), status


@bp.get("/index-sets")
@login_required
def index_sets() -> Any:
    manager_required()
    return _sets_page()


@bp.get("/index-sets/bo_chi_so_mau.xlsx")
@login_required
def example_file() -> Any:
    return attachment(EXAMPLE_FILE.read_bytes(), "bo_chi_so_mau.xlsx")


@bp.post("/index-sets")
@login_required
def import_set() -> Any:
    manager_required()
    upload = request.files.get("file")
    content = upload.read(services().settings.max_excel_bytes + 1) if upload is not None else b""
    replace = request.form.get("replace_id", type=int)
    try:
        year = int(request.form.get("year", "").strip())
    except ValueError:
        year = 0
    try:
        with uow() as work:
            if not content:
                raise InvalidData(dti_index.NO_FILE)
            view = dti_index.import_index_set(work, services(), current_user, content=content,
                                              file_name=upload.filename if upload else "",
                                              name=request.form.get("name", ""), year=year, replace_id=replace)
    except InvalidData as exc:
        return _sets_page(exc, 400)
    flash(_("Đã nhập bộ chỉ số “%(name)s”: %(n)s chỉ số.", name=view.summary.name, n=view.summary.indicators),
          "success")
    return redirect(url_for("dti.index_set", set_id=view.summary.id))


def _set_page(set_id: int, errors: InvalidData | None = None, status: int = 200) -> Any:
    with uow() as work:
        view = dti_index.index_set(work, services(), current_user, set_id)
        editable = view.summary.state is IndexSetState.DRAFT and dti_index.may_manage(current_user, services())
        return render_template("dti/index_set.html", view=view, editable=editable,
                               editing=editable and (request.args.get("edit") == "1" or errors is not None),
                               error=errors, form=request.form, methods=list(ScoringMethod)), status


@bp.get("/index-sets/<int:set_id>")
@login_required
def index_set(set_id: int) -> Any:
    return _set_page(set_id)


@bp.post("/index-sets/<int:set_id>")
@login_required
def edit_set(set_id: int) -> Any:
    """The tree's corrections: only the values that differ from the stored ones are sent, all at once."""
    manager_required()
    with uow() as work:
        view = dti_index.index_set(work, services(), current_user, set_id)
        edits: dict[str, dict[str, Any]] = {}
        for item in view.indicators:
            given = {"name": request.form.get(f"name-{item.code}"), "max_points": request.form.get(f"max-{item.code}"),
                     "method": request.form.get(f"method-{item.code}"),
                     "method_text": request.form.get(f"method_text-{item.code}")}
            stored = {"name": item.name, "max_points": points_text(item.max_points), "method": item.method.value,
                      "method_text": item.method_text}
            changed = {key: value for key, value in given.items()
                       if value is not None and value.strip() != str(stored[key]).strip()}
            if changed:
                edits[item.code] = changed
    if not edits:
        flash(_("Không có thay đổi nào."), "info")
        return redirect(url_for("dti.index_set", set_id=set_id))
    try:
        with uow() as work:
            dti_index.edit_indicators(work, services(), current_user, set_id, edits)
    except InvalidData as exc:
        return _set_page(set_id, exc, 400)
    flash(_("Đã sửa %(n)s chỉ số.", n=len(edits)), "success")
    return redirect(url_for("dti.index_set", set_id=set_id))


# ---------------------------------------------------------------- opening a round


def guessed_group(code: str) -> UnitGroup:
    """The ranking group a unit most likely belongs to, from its code (the form lets it be changed)."""
    if code.startswith(("xa_", "phuong_", "ubnd_xa")):
        return UnitGroup.COMMUNE
    if code.startswith(("ubnd_", "huyen_")) and code != "ubnd_tinh":
        return UnitGroup.DISTRICT
    return UnitGroup.DEPARTMENT


def _open_page(errors: InvalidData | None = None, status: int = 200) -> Any:
    with uow() as work:
        sets = [s for s in dti_index.index_sets(work, services(), current_user) if s.state is IndexSetState.DRAFT]
        units = list(work.session.scalars(select(Unit).order_by(Unit.name)))
        grouped = {g: [u for u in units if guessed_group(u.code) is g] for g in UnitGroup}
        return render_template("dti/open_round.html", sets=sets, grouped=grouped, groups=list(UnitGroup),
                               error=errors, form=request.form, chosen=set(request.form.getlist("unit")),
                               selected_set=request.values.get("index_set_id", type=int)), status


@bp.get("/rounds/new")
@login_required
def new_round() -> Any:
    manager_required()
    return _open_page()


@bp.post("/rounds")
@login_required
def open_round() -> Any:
    manager_required()
    participants = [{"unit": code, "group": request.form.get(f"group-{code}", "")}
                    for code in request.form.getlist("unit")]
    try:
        with uow() as work:
            opened = dti_rounds.open_round(work, services(), current_user,
                                           index_set_id=request.form.get("index_set_id", type=int) or 0,
                                           participants=participants, deadline=request.form.get("deadline", ""),
                                           name=request.form.get("name") or None)
            round_id = opened.id
    except InvalidData as exc:
        return _open_page(exc, 400)
    flash(_("Đã mở kỳ đánh giá; các đơn vị đã nhận công việc tự đánh giá."), "success")
    return redirect(url_for("dti.round_detail", round_id=round_id))


@bp.get("/rounds/<int:round_id>")
@login_required
def round_detail(round_id: int) -> Any:
    with uow() as work:
        view = dti_rounds.round_view(work, services(), current_user, round_id)
        round_ = dti_access.get_round(work, round_id)
        return render_template("dti/round.html", round=view, sees_ranking=dti_access.sees_all(current_user, round_)
                               or dti_access.is_published(round_))


# ---------------------------------------------------------------- the scoring sheet


def _evidence(work: Any, round_id: int, unit_code: str) -> dict[str, list[EvidenceFile]]:
    try:
        files = dti_evidence.listing(work, services(), current_user, round_id, unit_code)
    except Forbidden:
        return {}
    found: dict[str, list[EvidenceFile]] = {}
    for item in files:
        found.setdefault(item.indicator_code, []).append(item)
    return found


def _sheet_page(round_id: int, unit_code: str, step_error: InvalidData | None = None, status: int = 200) -> Any:
    with uow() as work:
        sheet = dti_sheet.sheet(work, services(), current_user, round_id, unit_code)
        evidence = _evidence(work, round_id, unit_code)
        may_step = dti_access.may_do(work, current_user, sheet.task_id) and sheet.phase in STEP_FIELDS
        may_upload = sheet.may_edit_self or sheet.may_respond
        return render_template("dti/sheet.html", sheet=sheet, evidence=evidence, may_step=may_step,
                               step_field=STEP_FIELDS.get(sheet.phase), step_error=step_error,
                               may_upload=may_upload, max_attachment_bytes=services().settings.max_attachment_bytes,
                               phases=UnitPhase), status


@bp.get(UNIT)
@login_required
def sheet(round_id: int, unit_code: str) -> Any:
    return _sheet_page(round_id, unit_code)


@bp.post(UNIT + "/submit")
@login_required
def submit(round_id: int, unit_code: str) -> Any:
    """The sheet's “Nộp…” / “Hoàn thành…” box: completes the unit's current step with its form's data."""
    with uow() as work:
        phase = dti_sheet.sheet(work, services(), current_user, round_id, unit_code).phase
    field = STEP_FIELDS.get(phase)
    data: dict[str, Any] = {}
    if field is not None and request.form.get(field[0], "").strip():
        data[field[0]] = request.form.get(field[0], "").strip()
    if phase is UnitPhase.SELF:
        data["xac_nhan_tu_danh_gia"] = request.form.get("xac_nhan") == "1"
    try:
        with uow() as work:
            dti_scores.complete_step(work, services(), current_user, round_id, unit_code, data)
    except InvalidData as exc:
        return _sheet_page(round_id, unit_code, exc, 400)
    flash(_("Đã hoàn thành bước “%(step)s”.", step=text(phase.label)), "success")
    return redirect(url_for("dti.sheet", round_id=round_id, unit_code=unit_code))


def saved_json(saved: Saved) -> dict[str, Any]:
    line = saved.line
    return {"code": line.code, "self_score": line.self_score, "self_note": line.self_note,
            "expert_score": line.expert_score, "expert_reason": line.expert_reason, "final_score": line.final_score,
            "adjusted": line.adjusted, "response": line.response, "evidence": line.evidence,
            "self_total": saved.self_total, "final_total": saved.final_total}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _score_value(body: dict[str, Any]) -> Any:
    value = body.get("score")
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


@bp.put(SCORE + "/self")
@login_required
@json_errors
def save_self(round_id: int, unit_code: str, code: str) -> Any:
    body = _body()
    with uow() as work:
        saved = dti_scores.save_self_score(work, services(), current_user, round_id, unit_code, code,
                                           score=_score_value(body), note=body.get("note"))
    return jsonify(saved_json(saved))


@bp.put(SCORE + "/expert")
@login_required
@json_errors
def save_expert(round_id: int, unit_code: str, code: str) -> Any:
    body = _body()
    with uow() as work:
        saved = dti_scores.save_expert_score(work, services(), current_user, round_id, unit_code, code,
                                             score=_score_value(body), reason=body.get("reason"))
    return jsonify(saved_json(saved))


@bp.post(SCORE + "/response")
@login_required
@json_errors
def save_response(round_id: int, unit_code: str, code: str) -> Any:
    with uow() as work:
        saved = dti_scores.save_response(work, services(), current_user, round_id, unit_code, code,
                                         text=_body().get("text"))
    return jsonify(saved_json(saved))


@bp.get(SCORE + "/history")
@login_required
@json_errors
def history(round_id: int, unit_code: str, code: str) -> Any:
    with uow() as work:
        changes = dti_scores.history(work, services(), current_user, round_id, unit_code, code)
    kinds = {"tu_danh_gia": _("Điểm tự đánh giá"), "chuyen_gia": _("Điểm của Sở TT&TT"),
             "phan_hoi": _("Phản hồi của đơn vị"), "them_tai_lieu": _("Thêm tài liệu kiểm chứng"),
             "xoa_tai_lieu": _("Xóa tài liệu kiểm chứng")}
    return jsonify([{"kind": kinds[c.kind.value], "old": points_text(c.old_value), "new": points_text(c.new_value),
                     "text": c.text, "actor": c.actor, "at": datetime_local(c.at)} for c in changes])


def evidence_json(item: EvidenceFile, round_id: int, unit_code: str) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "size": item.size, "phase": item.phase.value,
            "url": url_for("dti.evidence_content", round_id=round_id, unit_code=unit_code, evidence_id=item.id),
            "remove": url_for("dti.evidence_remove", round_id=round_id, unit_code=unit_code, evidence_id=item.id)}


@bp.post(SCORE + "/evidence")
@login_required
@csrf.exempt  # checked below, once the body may be as large as a file is allowed to be
@json_errors
def evidence_upload(round_id: int, unit_code: str, code: str) -> Any:
    allow_upload_size()
    csrf.protect()
    upload = request.files.get("file")
    content = upload.read(services().settings.max_attachment_bytes + 1) if upload is not None else b""
    with uow() as work:
        stored = dti_evidence.upload(work, services(), current_user, round_id, unit_code, code,
                                     file_name=upload.filename or "" if upload else "", content=content)
    return jsonify(evidence_json(stored, round_id, unit_code)), 201


@bp.delete(UNIT + "/evidence/<int:evidence_id>")
@login_required
@json_errors
def evidence_remove(round_id: int, unit_code: str, evidence_id: int) -> Any:
    with uow() as work:
        code = dti_evidence.remove(work, services(), current_user, round_id, unit_code, evidence_id)
        left = dti_evidence.listing(work, services(), current_user, round_id, unit_code, code)
    return jsonify([evidence_json(item, round_id, unit_code) for item in left])


@bp.get(UNIT + "/evidence/<int:evidence_id>")
@login_required
def evidence_content(round_id: int, unit_code: str, evidence_id: int) -> Any:
    with uow() as work:
        found = dti_evidence.content(work, services(), current_user, round_id, unit_code, evidence_id)
        return attachment(found.content, found.file_name, found.content_type)


@bp.get(UNIT + "/report.docx")
@login_required
def report(round_id: int, unit_code: str) -> Any:
    with uow() as work:
        content, name = dti_report.unit_report(work, services(), current_user, round_id, unit_code)
    return attachment(content, name)


# ---------------------------------------------------------------- ranking


@dataclass(frozen=True)
class Bar:
    y: int
    width: float
    label: str
    value: str
    rank: int


@dataclass(frozen=True)
class Chart:
    height: int
    bars: list[Bar]


CHART_LEFT, CHART_WIDTH, BAR_STEP = 170, 210, 28


def chart_of(group: dti_ranking.GroupRanking) -> Chart:
    """A horizontal bar per unit, as a share of the group's maximum (drawn by the template as SVG)."""
    bars = []
    for index, unit in enumerate(group.units):
        share = float(unit.percent) / 100 if group.max_total else 0.0
        name = unit.unit_name if len(unit.unit_name) <= 24 else unit.unit_name[:23] + "…"
        bars.append(Bar(8 + index * BAR_STEP, round(CHART_WIDTH * min(share, 1.0), 1), name,
                        f"{points_text(unit.total)} ({str(unit.percent).replace('.', ',')}%)", unit.rank))
    return Chart(16 + len(bars) * BAR_STEP, bars)


@bp.get("/rounds/<int:round_id>/ranking")
@login_required
def ranking(round_id: int) -> Any:
    with uow() as work:
        result = dti_ranking.ranking(work, services(), current_user, round_id)
        return render_template("dti/ranking.html", ranking=result,
                               charts={g.group: chart_of(g) for g in result.groups},
                               chart_left=CHART_LEFT, chart_width=CHART_WIDTH)


@bp.get("/rounds/<int:round_id>/ranking.xlsx")
@login_required
def ranking_xlsx(round_id: int) -> Any:
    with uow() as work:
        content, name = dti_ranking.ranking_workbook(work, services(), current_user, round_id)
    return attachment(content, name)
