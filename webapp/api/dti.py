"""Digital transformation index (DTI): index sets, rounds, a unit's scoring sheet, evidence, ranking, reports.

Handlers read the request and call one use case of engine.services.dti_*; the rules (who may, what is
valid) are there. docs/dti.md describes the procedure and docs/api.md the calls.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from flask import request, url_for

from engine.persistence.models import User
from engine.services import dti_evidence, dti_index, dti_ranking, dti_report, dti_rounds, dti_scores, dti_sheet
from engine.services.dti_evidence import EvidenceFile
from webapp.api.auth import authenticated
from webapp.api.base import api_blueprint, documents_errors
from webapp.api.dti_schemas import (
    ChangeSchema,
    EvidenceQuerySchema,
    EvidenceSchema,
    EvidenceUploadSchema,
    ExpertScoreSchema,
    IndexFileSchema,
    IndexSetImportQuerySchema,
    IndexSetSchema,
    IndexSetSummarySchema,
    IndicatorEditsSchema,
    IndicatorSchema,
    RankingSchema,
    ResponseSchema,
    RoundOpenSchema,
    RoundSchema,
    SavedSchema,
    SelfScoreSchema,
    SheetSchema,
    StepSchema,
)
from webapp.attachments import allow_upload_size
from webapp.downloads import DOCX_MIME, XLSX_MIME, attachment
from webapp.platform import services, uow

blp = api_blueprint("api_dti", __name__, "Chỉ số chuyển đổi số (DTI): bộ chỉ số, kỳ đánh giá, phiếu chấm điểm, "
                                         "tài liệu kiểm chứng, xếp hạng và báo cáo.")

BINARY = {"type": "string", "format": "binary"}
UNIT = "/dti/rounds/<int:round_id>/units/<unit_code>"
SCORE = UNIT + "/scores/<code>"


@blp.before_request
def upload_size() -> None:
    # Before the body is parsed: an evidence file may be as large as one allowed attachment.
    if request.endpoint == "api_dti.evidence_upload":
        allow_upload_size()


# ---------------------------------------------------------------- index sets


@blp.route("/dti/index-sets", methods=["GET"])
@authenticated
@blp.response(200, IndexSetSummarySchema(many=True))
@documents_errors(blp, 401, 403)
@blp.doc(summary="Các bộ chỉ số", description="Năm mới nhất trước. Quản trị viên, chuyên viên và lãnh đạo Sở TT&TT.")
def index_set_list(user: User) -> Any:
    with uow() as work:
        return dti_index.index_sets(work, services(), user)


@blp.route("/dti/index-sets", methods=["POST"])
@authenticated
@blp.arguments(IndexSetImportQuerySchema, location="query", error_status_code=400)
@blp.arguments(IndexFileSchema, location="files", error_status_code=400)
@blp.response(201, IndexSetSchema)
@documents_errors(blp, 400, 401, 403, 409)
@blp.doc(summary="Nhập bộ chỉ số từ Excel",
         description="Tệp multipart `file` (.xlsx theo định dạng của docs/dti.md, tệp mẫu "
                     "processes/dti/bo_chi_so_mau.xlsx); tên và năm trong tham số name, year. Mọi lỗi "
                     "trả 400 invalid_data, details liệt kê từng lỗi với row (số dòng Excel), column, label (tên "
                     "cột); có lỗi thì không lưu chỉ số nào. replace: nhập lại thay thế một bộ chỉ số dự thảo.")
def index_set_import(query: dict[str, Any], files: dict[str, Any], user: User) -> Any:
    upload = files["file"]
    content = upload.read(services().settings.max_excel_bytes + 1)
    with uow() as work:
        return dti_index.import_index_set(work, services(), user, content=content, file_name=upload.filename or "",
                                          name=query["name"], year=query["year"], replace_id=query["replace"]), 201


@blp.route("/dti/index-sets/<int:set_id>", methods=["GET"])
@authenticated
@blp.response(200, IndexSetSchema)
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Xem bộ chỉ số", description="Các chỉ số theo thứ tự trong tệp, điểm tối đa theo nhóm đơn vị.")
def index_set_detail(set_id: int, user: User) -> Any:
    with uow() as work:
        return dti_index.index_set(work, services(), user, set_id)


@blp.route("/dti/index-sets/<int:set_id>/indicators", methods=["PATCH"])
@authenticated
@blp.arguments(IndicatorEditsSchema, error_status_code=400)
@blp.response(200, IndicatorSchema(many=True))
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Sửa chỉ số của bộ chỉ số dự thảo",
         description="Một hoặc nhiều chỉ số cùng lúc (điểm tối đa của chỉ số con và chỉ số cha cùng đổi). Cả bộ "
                     "chỉ số được kiểm tra lại; sai thì 400 và không đổi gì. Bộ chỉ số đã dùng cho kỳ đánh giá: 409.")
def indicators_edit(body: dict[str, Any], set_id: int, user: User) -> Any:
    edits = {item.pop("code"): item for item in body["indicators"]}
    with uow() as work:
        return dti_index.edit_indicators(work, services(), user, set_id, edits)


# ---------------------------------------------------------------- rounds


@blp.route("/dti/rounds", methods=["GET"])
@authenticated
@blp.response(200, RoundSchema(many=True))
@documents_errors(blp, 401)
@blp.doc(summary="Các kỳ đánh giá", description="Các kỳ người dùng được xem: Sở TT&TT, UBND tỉnh xem tất cả; đơn "
                                                "vị xem kỳ mình tham gia; kỳ đã công bố ai cũng xem.")
def round_list(user: User) -> Any:
    with uow() as work:
        return dti_rounds.rounds(work, services(), user)


@blp.route("/dti/rounds", methods=["POST"])
@authenticated
@blp.arguments(RoundOpenSchema, error_status_code=400)
@blp.response(201, RoundSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Mở kỳ đánh giá",
         description="Bộ chỉ số dự thảo, các đơn vị tham gia với nhóm xếp hạng, hạn nộp báo cáo tự đánh giá. Tạo hồ "
                     "sơ dti_assessment: mỗi đơn vị một công việc tự đánh giá, hạn là hạn nộp.")
def round_open(body: dict[str, Any], user: User) -> Any:
    with uow() as work:
        opened = dti_rounds.open_round(work, services(), user, index_set_id=body["index_set_id"],
                                       participants=body["participants"], deadline=body["deadline"],
                                       name=body["name"], evaluator_unit=body["evaluator_unit"],
                                       approver_unit=body["approver_unit"])
        return dti_rounds.round_view(work, services(), user, opened.id), 201


@blp.route("/dti/rounds/<int:round_id>", methods=["GET"])
@authenticated
@blp.response(200, RoundSchema)
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Xem kỳ đánh giá", description="Trạng thái, các đơn vị và bước đang chờ của từng đơn vị.")
def round_detail(round_id: int, user: User) -> Any:
    with uow() as work:
        return dti_rounds.round_view(work, services(), user, round_id)


# ---------------------------------------------------------------- a unit's sheet


@blp.route(UNIT + "/sheet", methods=["GET"])
@authenticated
@blp.response(200, SheetSchema)
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Phiếu chấm điểm của đơn vị",
         description="Mọi chỉ số áp dụng cho nhóm của đơn vị, chỉ số cha là tổng chỉ số con, tổng theo nhóm chỉ "
                     "số. Trước khi công bố, đơn vị khác xem: 403.")
def sheet(round_id: int, unit_code: str, user: User) -> Any:
    with uow() as work:
        return dti_sheet.sheet(work, services(), user, round_id, unit_code)


@blp.route(SCORE, methods=["PUT"])
@authenticated
@blp.arguments(SelfScoreSchema, error_status_code=400)
@blp.response(200, SavedSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Lưu điểm tự đánh giá của một chỉ số",
         description="Trong khi đơn vị tự đánh giá. Điểm từ 0 đến tối đa; chỉ số chấm theo mức chỉ nhận 0, nửa "
                     "hoặc tối đa. Trả dòng đã lưu và tổng điểm của đơn vị.")
def self_score(body: dict[str, Any], round_id: int, unit_code: str, code: str, user: User) -> Any:
    with uow() as work:
        return dti_scores.save_self_score(work, services(), user, round_id, unit_code, code, score=body["score"],
                                         note=body["note"])


@blp.route(SCORE + "/expert", methods=["PUT"])
@authenticated
@blp.arguments(ExpertScoreSchema, error_status_code=400)
@blp.response(200, SavedSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Lưu điểm đánh giá độc lập của một chỉ số",
         description="Chuyên gia Sở TT&TT, khi đánh giá độc lập, xem xét phản hồi hoặc tổng hợp. Điểm khác điểm tự "
                     "đánh giá phải có lý do (reason).")
def expert_score(body: dict[str, Any], round_id: int, unit_code: str, code: str, user: User) -> Any:
    with uow() as work:
        return dti_scores.save_expert_score(work, services(), user, round_id, unit_code, code, score=body["score"],
                                           reason=body["reason"])


@blp.route(SCORE + "/response", methods=["POST"])
@authenticated
@blp.arguments(ResponseSchema, error_status_code=400)
@blp.response(200, SavedSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Phản hồi điều chỉnh của một chỉ số",
         description="Đơn vị, một lần cho mỗi chỉ số được điều chỉnh, khi bước “Xem điều chỉnh và phản hồi” chờ "
                     "đơn vị. Lần thứ hai: 409.")
def response(body: dict[str, Any], round_id: int, unit_code: str, code: str, user: User) -> Any:
    with uow() as work:
        return dti_scores.save_response(work, services(), user, round_id, unit_code, code, text=body["text"])


@blp.route(SCORE + "/history", methods=["GET"])
@authenticated
@blp.response(200, ChangeSchema(many=True))
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Lịch sử điểm của một chỉ số", description="Mọi thay đổi: ai, lúc nào, trước, sau, lý do.")
def score_history(round_id: int, unit_code: str, code: str, user: User) -> Any:
    with uow() as work:
        return dti_scores.history(work, services(), user, round_id, unit_code, code)


@blp.route(UNIT + "/submit", methods=["POST"])
@authenticated
@blp.arguments(StepSchema, error_status_code=400)
@blp.response(200, SheetSchema)
@documents_errors(blp, 400, 401, 403, 404, 409)
@blp.doc(summary="Hoàn thành bước đang chờ của đơn vị",
         description="Nộp báo cáo tự đánh giá (bị từ chối khi còn chỉ số chưa chấm hoặc thiếu tài liệu kiểm "
                     "chứng, kèm số lượng), hoàn thành đánh giá độc lập, gửi phản hồi, chốt điểm; data là dữ liệu "
                     "biểu mẫu của bước (docs/dti.md).")
def submit(body: dict[str, Any], round_id: int, unit_code: str, user: User) -> Any:
    with uow() as work:
        return dti_scores.complete_step(work, services(), user, round_id, unit_code, body["data"])


# ---------------------------------------------------------------- evidence


def shown(file: EvidenceFile, round_id: int, unit_code: str) -> dict[str, Any]:
    link = url_for("api_dti.evidence_content", round_id=round_id, unit_code=unit_code, evidence_id=file.id)
    return {**dataclasses.asdict(file), "content": link}


@blp.route(SCORE + "/evidence", methods=["POST"])
@authenticated
@blp.arguments(EvidenceUploadSchema, location="files", error_status_code=400)
@blp.response(201, EvidenceSchema)
@documents_errors(blp, 400, 401, 403, 404, 409, 413)
@blp.doc(summary="Tải lên tài liệu kiểm chứng của một chỉ số",
         description="Loại tệp nhận theo nội dung (PDF, JPEG, PNG, DOCX, XLSX; phần mở rộng phải khớp), tối đa "
                     "MAX_ATTACHMENT_BYTES mỗi tệp, tối đa 10 tệp mỗi chỉ số. Từ chối: 400 invalid_data.")
def evidence_upload(files: dict[str, Any], round_id: int, unit_code: str, code: str, user: User) -> Any:
    upload = files["file"]
    content = upload.read(services().settings.max_attachment_bytes + 1)
    with uow() as work:
        stored = dti_evidence.upload(work, services(), user, round_id, unit_code, code,
                                     file_name=upload.filename or "", content=content)
    return shown(stored, round_id, unit_code), 201


@blp.route(UNIT + "/evidence", methods=["GET"])
@authenticated
@blp.arguments(EvidenceQuerySchema, location="query", error_status_code=400)
@blp.response(200, EvidenceSchema(many=True))
@documents_errors(blp, 400, 401, 403, 404)
@blp.doc(summary="Tài liệu kiểm chứng của đơn vị",
         description="Đơn vị, Sở TT&TT, UBND tỉnh và quản trị viên (không công khai cả sau khi công bố).")
def evidence_list(query: dict[str, Any], round_id: int, unit_code: str, user: User) -> Any:
    with uow() as work:
        found = dti_evidence.listing(work, services(), user, round_id, unit_code, query["indicator"])
    return [shown(f, round_id, unit_code) for f in found]


@blp.route(UNIT + "/evidence/<int:evidence_id>/content", methods=["GET"])
@authenticated
@blp.response(200, BINARY, content_type="application/octet-stream", description="Tệp với đúng kiểu MIME của nó.")
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Tải tài liệu kiểm chứng")
def evidence_content(round_id: int, unit_code: str, evidence_id: int, user: User) -> Any:
    with uow() as work:
        found = dti_evidence.content(work, services(), user, round_id, unit_code, evidence_id)
        return attachment(found.content, found.file_name, found.content_type)


@blp.route(UNIT + "/evidence/<int:evidence_id>", methods=["DELETE"])
@authenticated
@blp.response(200, EvidenceSchema(many=True))
@documents_errors(blp, 401, 403, 404, 409)
@blp.doc(summary="Xóa tài liệu kiểm chứng",
         description="Tệp đơn vị thêm ở bước đang thực hiện; trả các tài liệu còn lại của chỉ số đó.")
def evidence_delete(round_id: int, unit_code: str, evidence_id: int, user: User) -> Any:
    with uow() as work:
        code = dti_evidence.remove(work, services(), user, round_id, unit_code, evidence_id)
        left = dti_evidence.listing(work, services(), user, round_id, unit_code, code)
    return [shown(f, round_id, unit_code) for f in left]


# ---------------------------------------------------------------- ranking and reports


@blp.route("/dti/rounds/<int:round_id>/ranking", methods=["GET"])
@authenticated
@blp.response(200, RankingSchema)
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Xếp hạng theo nhóm",
         description="Tổng điểm đạt, hạng (đồng hạng: cùng hạng, bỏ qua hạng kế tiếp), so sánh với năm trước. "
                     "Trước khi công bố chỉ Sở TT&TT và UBND tỉnh xem; sau khi công bố mọi người dùng đăng nhập.")
def ranking(round_id: int, user: User) -> Any:
    with uow() as work:
        return dti_ranking.ranking(work, services(), user, round_id)


@blp.route("/dti/rounds/<int:round_id>/ranking.xlsx", methods=["GET"])
@authenticated
@blp.response(200, BINARY, content_type=XLSX_MIME, description="Bảng xếp hạng .xlsx.")
@documents_errors(blp, 401, 403, 404)
@blp.doc(summary="Tải bảng xếp hạng Excel")
def ranking_xlsx(round_id: int, user: User) -> Any:
    with uow() as work:
        content, name = dti_ranking.ranking_workbook(work, services(), user, round_id)
    return attachment(content, name)


@blp.route(UNIT + "/report.docx", methods=["GET"])
@authenticated
@blp.response(200, BINARY, content_type=DOCX_MIME, description="Báo cáo kết quả đánh giá của đơn vị.")
@documents_errors(blp, 401, 403, 404, 409)
@blp.doc(summary="Tải báo cáo kết quả đánh giá của đơn vị (DOCX)",
         description="Dự thảo trước khi công bố; số văn bản để trống cho văn thư.")
def unit_report(round_id: int, unit_code: str, user: User) -> Any:
    with uow() as work:
        content, name = dti_report.unit_report(work, services(), user, round_id, unit_code)
    return attachment(content, name)
