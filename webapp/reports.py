"""Reports for leaders: the deadline (SLA) report of a procedure."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from engine.domain.errors import InvalidData
from engine.services import sla
from webapp.platform import services, text, uow

bp = Blueprint("reports", __name__, url_prefix="/reports")


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
