"""Procedure catalogue and starting an instance."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.services import instances, queries
from webapp.platform import services, uow

bp = Blueprint("procedures", __name__)


@bp.get("/procedures")
@login_required
def catalogue() -> Any:
    with uow() as work:
        return render_template("procedures/catalogue.html", versions=queries.catalogue(work))


@bp.post("/procedures/<process_id>/start")
@login_required
def start(process_id: str) -> Any:
    with uow() as work:
        instance = instances.start(work, services(), current_user, process_id)
        instance_id = instance.id
        mine = [t for t in queries.tasks_for(work, current_user) if t.instance_id == instance_id]
    flash(_("Đã tạo hồ sơ số %(id)s.", id=instance_id), "success")
    if mine:
        return redirect(url_for("tasks.task", task_id=mine[0].id))
    return redirect(url_for("instances.detail", instance_id=instance_id))
