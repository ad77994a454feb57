"""Instances: my dossiers, one instance with its diagram and history, and its issued documents."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.services import attachments, credentials, documents_view, instances, queries, sla
from engine.services.documents_view import DocumentFormat
from webapp.downloads import attachment
from webapp.platform import services, uow

bp = Blueprint("instances", __name__)

@bp.get("/instances")
@login_required
def index() -> Any:
    with uow() as work:
        shown = queries.instances_for(work, current_user)
        return render_template("instances/list.html", instances=shown, due=sla.instance_states(services(), shown))


@bp.get("/instances/<int:instance_id>")
@login_required
def detail(instance_id: int) -> Any:
    with uow() as work:
        view = queries.instance_view(work, services(), current_user, instance_id)
        whole = not view.own_tasks_only  # else only their own tasks: no documents, files, links of the instance
        return render_template("instances/detail.html", view=view, instance=view.instance,
                               documents=documents_view.issued_in(work, view.instance.id) if whole else [],
                               attachments=attachments.filed_in(work, view.instance.id) if whole else [],
                               credential_links=credentials.links_of(work.session, view.instance.id,
                                                                     services().now()) if whole else [],
                               due=sla.task_states(services(), view.tasks),
                               instance_due=sla.instance_state(services(), view.instance),
                               step_names=services().runtime.element_names(view.instance.version.spec_json),
                               diagram={"xml": view.instance.version.bpmn_xml,
                                        "completed": view.completed, "active": view.active})


@bp.post("/instances/<int:instance_id>/cancel")
@login_required
def cancel(instance_id: int) -> Any:
    with uow() as work:
        instances.cancel(work, services(), current_user, instance_id)
    flash(_("Đã hủy hồ sơ."), "info")
    return redirect(url_for("instances.detail", instance_id=instance_id))


@bp.get("/instances/<int:instance_id>/documents/<int:document_id>.<any(docx, pdf):fmt>")
@login_required
def document(instance_id: int, document_id: int, fmt: str) -> Any:
    """Downloads an issued document; 404 for a missing PDF or a document of another instance."""
    with uow() as work:
        found = documents_view.document_for(work, current_user, document_id, instance_id=instance_id)
        content, name = documents_view.content_of(found, DocumentFormat(fmt))
    return attachment(content, name)
