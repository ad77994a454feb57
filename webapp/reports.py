"""Reports for leaders: the deadline (SLA) report of a procedure, and statistics tables defined as data."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.domain.enums import Role
from engine.domain.errors import InvalidData
from engine.reports import statistics
from engine.reports.definitions import DefinitionError, ReportDefinition
from engine.services import sla
from webapp.downloads import attachment
from webapp.platform import services, text, uow

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: Years offered in the year selector: this many back from the current year (and one ahead).
YEARS_BACK = 5


@bp.get("/sla")
@login_required
def sla_report() -> Any:
    args = {k: request.args.get(k, "").strip() for k in ("process", "unit", "from", "to")}
    with uow() as work:
        options = sla.report_options(work, current_user)
        try:
            flt = sla.report_filter(current_user, options, args["process"], args["unit"], args["from"], args["to"])
        except InvalidData as err:
            return render_template("reports/sla.html", options=options, args=args, report=None,
                                   error=text(err.message)), 400
        result = sla.report(work, services(), flt)
        return render_template("reports/sla.html", options=options, report=result, error=None,
                               args={**args, "process": flt.process_id or ""})


# ---------------------------------------------------------------- statistics (docs/excel.md)


def _this_year() -> int:
    return services().now().astimezone(ZoneInfo(services().settings.timezone)).year


@bp.get("/statistics")
@login_required
def statistics_index() -> Any:
    """The first statistics report; the page itself offers the others."""
    statistics.check_viewer(current_user)
    found, refused = statistics.load_all(services().settings.reports_dir)
    if found:
        return redirect(url_for("reports.statistics_page", report_id=found[0].id))
    return render_template("reports/statistics.html", table=None, reports=[], definition=None,
                           refused=_for_administrators(refused), years=[], year=_this_year(), error=None)


@bp.get("/statistics/<report_id>")
@login_required
def statistics_page(report_id: str) -> Any:
    statistics.check_viewer(current_user)
    folder = services().settings.reports_dir
    # Read on each request, so an administrator's edit shows at once; the chosen file is read once.
    found, refused = statistics.load_all(folder)
    definition = next((d for d in found if d.id == report_id), None)
    if definition is None:
        definition = statistics.load(folder, report_id)  # NotFound, or DefinitionError naming each problem
    this_year = _this_year()
    years = list(range(this_year + 1, this_year - YEARS_BACK - 1, -1))
    try:
        year = statistics.parse_year(request.args.get("year"), this_year)
    except InvalidData as err:
        return _page(definition, found, refused, years, this_year, None, text(err.message)), 400
    with uow() as work:
        table = statistics.compute(work, definition, year, timezone=services().settings.timezone)
        return _page(definition, found, refused, sorted({*years, year}, reverse=True), year, table, None)


def _page(definition: ReportDefinition, found: list[ReportDefinition], refused: list[DefinitionError],
          years: list[int], year: int, table: statistics.ReportTable | None, error: str | None) -> str:
    return render_template("reports/statistics.html", definition=definition, reports=found, years=years,
                           year=year, table=table, error=error, refused=_for_administrators(refused),
                           note=text(table.counting_note()) if table else "")


def _for_administrators(refused: list[DefinitionError]) -> list[str]:
    """Only administrators can mend a refused definition file, so only they are told about it."""
    return [text(err.message) for err in refused] if Role.QUAN_TRI.value in current_user.role_codes else []


@bp.get("/statistics/<report_id>.xlsx")
@login_required
def statistics_xlsx(report_id: str) -> Any:
    statistics.check_viewer(current_user)
    definition = statistics.load(services().settings.reports_dir, report_id)
    year = statistics.parse_year(request.args.get("year"), _this_year())
    settings = services().settings
    with uow() as work:
        table = statistics.compute(work, definition, year, timezone=settings.timezone)
    data = statistics.workbook(table, as_of=services().now(), timezone=settings.timezone)
    slug = definition.id.replace("_", "-")
    return attachment(data, _("%(name)s năm %(year)s.xlsx", name=definition.name, year=year),
                      ascii_name=f"thong-ke-{slug}-{year}.xlsx")
