"""Published procedures (the newest version of each)."""
from __future__ import annotations

from typing import Any

from engine.persistence.models import User
from engine.services import queries
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.api.schemas import ProcessSchema
from webapp.platform import uow

blp = api_blueprint("api_processes", __name__, "Danh mục quy trình đã ban hành.")


@blp.route("/processes", methods=["GET"])
@authenticated
@blp.response(200, ProcessSchema(many=True))
@documents_errors(blp, 401)
@blp.doc(summary="Danh mục quy trình", description="Phiên bản mới nhất của mỗi quy trình.")
def catalogue(user: User) -> Any:
    with uow() as work:
        return queries.catalogue(work)
