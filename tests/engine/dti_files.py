"""DTI test material: the shipped example index set, index workbooks made on the spot, the people of a round."""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import openpyxl

from engine.settings import ROOT

EXAMPLE = ROOT / "processes" / "dti" / "bo_chi_so_mau.xlsx"
HEADERS = ("Mã chỉ số", "Mã chỉ số cha", "Nhóm chỉ số", "Tên chỉ số", "Điểm tối đa", "Cách tính điểm",
           "Phương pháp chấm điểm", "Áp dụng cho", "Tài liệu kiểm chứng")
#: A small valid set: two groups, one parent with two children, full/half/zero and ratio, one huyện-only item.
SMALL: list[tuple[Any, ...]] = [
    ("1", None, "Nhận thức số", "Chuyển đổi nhận thức", 10, None, None, "so_nganh; huyen", None),
    ("1.1", "1", None, "Kế hoạch chuyển đổi số", 4, "Mức", "Đạt / một nửa / không", None, "Kế hoạch"),
    ("1.2", "1", None, "Tuyên truyền", 6, "Tỷ lệ", "6 × tin bài / 12", None, None),
    ("2", None, "Hạ tầng số", "Hạ tầng", 5, None, None, "so_nganh; huyen", None),
    ("2.1", "2", None, "Phòng họp không giấy", 5, "Điểm", None, "so_nganh", None),
    ("2.2", "2", None, "Điểm cầu cấp xã", 5, "Điểm", None, "huyen", None),
]
#: Units and people of a round besides the engine fixtures' (sttt, so_tc, so_yt; cv_stc, cv_syt, cv_sttt, qt).
UNITS = {"ubnd_tinh": "UBND tỉnh", "so_xd": "Sở Xây dựng", "ubnd_caolanh": "UBND huyện Cao Lãnh"}
STAFF = {  # username: (full name, unit, roles)
    "ld_sttt": ("Nguyễn Quốc Hùng", "sttt", ["lanh_dao"]),
    "ct_ubnd": ("Phạm Văn Chủ", "ubnd_tinh", ["lanh_dao"]),
    "cv_sxd": ("Đoàn Thị Xây", "so_xd", ["chuyen_vien"]),
    "cv_huyen": ("Cao Thị Ngọc", "ubnd_caolanh", ["chuyen_vien"]),
}


def workbook(rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS,
             titles: Sequence[str] = ("Bộ chỉ số thử",)) -> bytes:
    """An index workbook: title lines, an empty line, the header row, then the rows (None = empty cell)."""
    book = openpyxl.Workbook()
    sheet = book.active
    for title in titles:
        sheet.append([title])
    if titles:
        sheet.append([])
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def header_row(titles: Sequence[str] = ("Bộ chỉ số thử",)) -> int:
    """The spreadsheet row of the header `workbook` writes; data start on the next one."""
    return len(titles) + (1 if titles else 0) + 1
