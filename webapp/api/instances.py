"""Process instances (hồ sơ): start one, read one with its tasks and history."""
from __future__ import annotations

from typing import Any

from flask import url_for

from engine.persistence.models import User
from engine.services import instances, queries, sla
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.api.schemas import InstanceSchema, StartRequestSchema
from webapp.platform import services, uow

blp = api_blueprint("api_instances", __name__, "Hồ sơ: khởi tạo và tra cứu.")


def shown_instance(view: queries.InstanceView) -> dict[str, Any]:
    """What InstanceSchema dumps: the instance view and its due state."""
    return {"view": view, "due_state": sla.instance_state(services(), view.instance)}


@blp.route("/process-instances", methods=["POST"])
@authenticated
@blp.arguments(StartRequestSchema, error_status_code=400)
@blp.response(201, InstanceSchema)
@documents_errors(blp, 400, 401, 404)
@blp.doc(summary="Khởi tạo hồ sơ", description="Theo phiên bản mới nhất của quy trình.")
def start(body: dict[str, Any], user: User) -> Any:
    with uow() as work:
        instance = instances.start(work, services(), user, body["process"], body["data"])
        view = queries.instance_view(work, services(), user, instance.id)
        shown = shown_instance(view)
    location = url_for("api_instances.detail", instance_id=view.instance.id)
    return shown, {"Location": location}


@blp.route("/process-instances/<int:instance_id>", methods=["GET"])
@authenticated
@blp.response(200, InstanceSchema)
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Xem hồ sơ", description="Trạng thái, công việc đang chờ và lịch sử xử lý.")
def detail(instance_id: int, user: User) -> Any:
    with uow() as work:
        return shown_instance(queries.instance_view(work, services(), user, instance_id))
