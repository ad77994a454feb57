"""Writes the example DTI index set, processes/dti/bo_chi_so_mau.xlsx: an EXAMPLE, not an official index set.

Run `python -m scripts.make_dti_example` after changing this file and commit the workbook; the docs
(docs/dti.md) and the tests import it. It shows every column of the index file: three groups of
indicators (nhóm chỉ số), sub-indicators summing to their parent, indicators applying to one unit group
only, and the three scoring methods (points, full/half/zero, ratio). The figures are made up for the
example; each year's real index set comes from the province's decision (QĐ 1397/QĐ-UBND-HC and its
successors, following QĐ 405/QĐ-BKHCN). The output is byte-for-byte reproducible.
"""
from __future__ import annotations

import argparse
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

OUT = Path(__file__).resolve().parent.parent / "processes" / "dti" / "bo_chi_so_mau.xlsx"
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
LABEL = "Bộ chỉ số MẪU — ví dụ, không phải bộ chỉ số chính thức"
HEADERS = ("Mã chỉ số", "Mã chỉ số cha", "Nhóm chỉ số", "Tên chỉ số", "Điểm tối đa", "Cách tính điểm",
           "Phương pháp chấm điểm", "Áp dụng cho", "Tài liệu kiểm chứng")
WIDTHS = (11, 11, 22, 60, 10, 12, 48, 22, 40)
BOTH = "so_nganh; huyen"
HUYEN = "huyen"
SO = "so_nganh"

#: (code, parent, group, name, max points, method, method text, applies to, evidence)
ROWS: list[tuple[str, str, str, str, float, str, str, str, str]] = [
    ("1", "", "Nhận thức số", "Chuyển đổi nhận thức", 20, "", "", BOTH, ""),
    ("1.1", "1", "", "Ban hành kế hoạch chuyển đổi số năm của cơ quan, đơn vị", 4, "Mức",
     "Đạt: kế hoạch ban hành trong quý I; một nửa: ban hành sau quý I; không đạt: không ban hành.", "",
     "Kế hoạch chuyển đổi số năm (số, ngày ban hành)"),
    ("1.2", "1", "", "Tuyên truyền, phổ biến về chuyển đổi số", 6, "", "", "", ""),
    ("1.2.1", "1.2", "", "Tin, bài tuyên truyền về chuyển đổi số trên cổng/trang thông tin điện tử", 3, "Tỷ lệ",
     "Điểm = 3 × số tin, bài / 12 (tối đa 3 điểm).", "", "Danh sách tin, bài kèm đường dẫn"),
    ("1.2.2", "1.2", "", "Tổ chức hội nghị, tập huấn về chuyển đổi số", 3, "Mức",
     "Đạt: từ 2 hội nghị trở lên; một nửa: 1 hội nghị; không đạt: không tổ chức.", "",
     "Giấy mời, báo cáo kết quả hội nghị"),
    ("1.3", "1", "", "Người đứng đầu trực tiếp chỉ đạo chuyển đổi số", 4, "Mức",
     "Đạt: có quyết định phân công và chủ trì họp định kỳ; một nửa: chỉ có quyết định phân công.", "",
     "Quyết định phân công, thông báo kết luận"),
    ("1.4", "1", "", "Hưởng ứng Ngày Chuyển đổi số quốc gia (10/10)", 2, "Mức", "", "",
     "Kế hoạch, báo cáo hưởng ứng"),
    ("1.5", "1", "", "Kết quả thực hiện kế hoạch chuyển đổi số năm", 4, "Tỷ lệ",
     "Điểm = 4 × nhiệm vụ hoàn thành / tổng nhiệm vụ của kế hoạch.", "", "Báo cáo kết quả thực hiện kế hoạch"),
    ("2", "", "Hạ tầng và nền tảng số", "Hạ tầng, nền tảng và dữ liệu số", 30, "", "", BOTH, ""),
    ("2.1", "2", "", "Hạ tầng kỹ thuật", 10, "", "", "", ""),
    ("2.1.1", "2.1", "", "Tỷ lệ máy tính kết nối mạng truyền số liệu chuyên dùng", 4, "Tỷ lệ",
     "Điểm = 4 × máy tính đã kết nối / tổng số máy tính.", "", "Bảng thống kê máy tính"),
    ("2.1.2", "2.1", "", "Tỷ lệ cán bộ, công chức được trang bị máy tính", 3, "Tỷ lệ",
     "Điểm = 3 × người có máy tính / tổng số cán bộ, công chức.", "", "Bảng thống kê trang thiết bị"),
    ("2.1.3", "2.1", "", "Hội nghị truyền hình trực tuyến kết nối đến cấp xã", 3, "Mức",
     "Đạt: mọi xã có điểm cầu; một nửa: từ 50% số xã.", HUYEN, "Danh sách điểm cầu"),
    ("2.1.4", "2.1", "", "Phòng họp không giấy tờ", 3, "Mức", "Đạt: họp không giấy tờ định kỳ; một nửa: thử nghiệm.",
     SO, "Biên bản, hình ảnh phòng họp"),
    ("2.2", "2", "", "Nền tảng, ứng dụng dùng chung", 12, "", "", "", ""),
    ("2.2.1", "2.2", "", "Sử dụng hệ thống quản lý văn bản và điều hành", 4, "Tỷ lệ",
     "Điểm = 4 × văn bản xử lý trên hệ thống / tổng văn bản.", "", "Số liệu thống kê của hệ thống"),
    ("2.2.2", "2.2", "", "Tỷ lệ văn bản đi được ký số", 4, "Tỷ lệ", "Điểm = 4 × văn bản ký số / tổng văn bản đi.", "",
     "Số liệu thống kê của hệ thống"),
    ("2.2.3", "2.2", "", "Sử dụng thư điện tử công vụ trong trao đổi công việc", 2, "Tỷ lệ",
     "Điểm = 2 × hộp thư hoạt động / hộp thư được cấp.", "", ""),
    ("2.2.4", "2.2", "", "Kết nối, chia sẻ dữ liệu qua nền tảng tích hợp, chia sẻ dữ liệu của tỉnh", 2, "Mức", "", "",
     "Văn bản xác nhận kết nối"),
    ("2.3", "2", "", "Cơ sở dữ liệu chuyên ngành được xây dựng, cập nhật", 4, "Điểm",
     "1 điểm cho mỗi cơ sở dữ liệu đưa vào sử dụng, tối đa 4 điểm.", "", "Quyết định đưa vào sử dụng"),
    ("2.4", "2", "", "Dữ liệu mở được công bố", 4, "Mức", "", "", "Đường dẫn dữ liệu mở"),
    ("3", "", "Hoạt động chính quyền số", "Hoạt động chính quyền số", 50, "", "", BOTH, ""),
    ("3.1", "3", "", "Dịch vụ công trực tuyến", 20, "", "", "", ""),
    ("3.1.1", "3.1", "", "Tỷ lệ thủ tục hành chính cung cấp dịch vụ công trực tuyến toàn trình", 6, "Tỷ lệ",
     "Điểm = 6 × thủ tục toàn trình / thủ tục đủ điều kiện.", "", "Danh mục thủ tục"),
    ("3.1.2", "3.1", "", "Tỷ lệ hồ sơ nộp trực tuyến toàn trình", 6, "Tỷ lệ",
     "Điểm = 6 × tỷ lệ (tối đa khi đạt 80%).", "", "Số liệu của Hệ thống thông tin giải quyết thủ tục hành chính"),
    ("3.1.3", "3.1", "", "Tỷ lệ hồ sơ được số hóa, cấp kết quả điện tử", 4, "Tỷ lệ", "", "", ""),
    ("3.1.4", "3.1", "", "Thanh toán trực tuyến phí, lệ phí", 4, "Tỷ lệ", "", "", ""),
    ("3.2", "3", "", "Nhân lực số", 10, "", "", "", ""),
    ("3.2.1", "3.2", "", "Có cán bộ chuyên trách công nghệ thông tin, chuyển đổi số", 4, "Mức", "", "",
     "Quyết định phân công"),
    ("3.2.2", "3.2", "", "Tỷ lệ cán bộ, công chức được bồi dưỡng kỹ năng số", 6, "Tỷ lệ", "", "",
     "Danh sách, chứng nhận hoàn thành"),
    ("3.3", "3", "", "An toàn thông tin mạng", 12, "", "", "", ""),
    ("3.3.1", "3.3", "", "Hệ thống thông tin được phê duyệt cấp độ an toàn thông tin", 4, "Mức", "", "",
     "Quyết định phê duyệt cấp độ"),
    ("3.3.2", "3.3", "", "Kết nối giám sát an toàn thông tin với hệ thống của tỉnh", 4, "Mức", "", "",
     "Văn bản xác nhận kết nối"),
    ("3.3.3", "3.3", "", "Diễn tập, ứng cứu sự cố an toàn thông tin", 4, "Mức", "", "", "Báo cáo diễn tập"),
    ("3.4", "3", "", "Chuyển đổi số ở cơ sở", 8, "", "", HUYEN, ""),
    ("3.4.1", "3.4", "", "Tỷ lệ thôn, ấp có tổ công nghệ số cộng đồng hoạt động", 4, "Tỷ lệ", "", "",
     "Quyết định thành lập, báo cáo hoạt động"),
    ("3.4.2", "3.4", "", "Tỷ lệ hộ gia đình thanh toán không dùng tiền mặt", 4, "Tỷ lệ", "", "", ""),
    ("3.5", "3", "", "Số hóa hồ sơ, tài liệu lưu trữ của cơ quan", 8, "Điểm",
     "2 điểm cho mỗi 25% tài liệu lưu trữ được số hóa.", SO, "Báo cáo số hóa tài liệu"),
]
GUIDE = [
    ("Cột", "Ý nghĩa"),
    ("Mã chỉ số *", "Mã duy nhất trong bộ chỉ số (chữ, số, dấu chấm), ví dụ 1, 1.2, 1.2.1. Nên định dạng cột là Văn "
                    "bản (Text) để 1.10 không thành 1.1."),
    ("Mã chỉ số cha", "Để trống với chỉ số cấp cao nhất; chỉ số con ghi mã của chỉ số cha."),
    ("Nhóm chỉ số", "Nhóm (trụ cột) của chỉ số; để trống thì lấy theo chỉ số cha (chỉ số cấp cao nhất: tên của nó)."),
    ("Tên chỉ số *", "Tên hoặc nội dung chỉ số."),
    ("Điểm tối đa *", "Số không âm, tối đa hai chữ số thập phân. Điểm của chỉ số cha bằng tổng điểm các chỉ số con "
                      "(theo từng nhóm đơn vị)."),
    ("Cách tính điểm", "Điểm (0 đến tối đa), Mức (đạt: tối đa; một nửa; không đạt: 0) hoặc Tỷ lệ (điểm = tối đa × "
                       "tỷ lệ đạt được). Để trống: Điểm. Chỉ dùng cho chỉ số không có chỉ số con."),
    ("Phương pháp chấm điểm", "Cách chấm cụ thể, hiển thị cho đơn vị và chuyên gia khi chấm điểm."),
    ("Áp dụng cho", "so_nganh (Sở, ban, ngành tỉnh), huyen (UBND huyện, thị xã, thành phố), xa (UBND xã, phường, đặc "
                    "khu); nhiều nhóm ngăn bằng dấu ;. Để trống: như chỉ số cha (chỉ số cấp cao nhất: mọi nhóm)."),
    ("Tài liệu kiểm chứng", "Tài liệu đơn vị phải đính kèm; khi có, chỉ số được chấm trên 0 điểm cần ít nhất một tệp "
                            "kiểm chứng mới nộp được báo cáo tự đánh giá."),
]


def workbook() -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = "Bộ chỉ số"
    sheet.append([LABEL])
    sheet["A1"].font = Font(bold=True, size=14, color="C00000")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(["Tệp ví dụ để thử chức năng nhập bộ chỉ số và làm quen với định dạng (docs/dti.md). Số liệu là giả "
                  "định; bộ chỉ số chính thức của từng năm do tỉnh ban hành."])
    sheet["A2"].font = Font(italic=True)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADERS))
    sheet.append([])
    sheet.append(list(HEADERS))
    header_fill = PatternFill("solid", start_color="1F3864", end_color="1F3864")
    thin = Side(style="thin", color="808080")
    for index in range(1, len(HEADERS) + 1):
        cell = sheet.cell(row=4, column=index)
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[index - 1]
    for code, parent, group, name, maximum, method, method_text, applies, evidence in ROWS:
        sheet.append([code, parent or None, group or None, name, maximum, method or None, method_text or None,
                      applies or None, evidence or None])
        row = sheet.max_row
        for index in range(1, len(HEADERS) + 1):
            cell = sheet.cell(row=row, column=index)
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if index in (1, 2):
                cell.number_format = "@"
        if not parent:
            for index in range(1, len(HEADERS) + 1):
                sheet.cell(row=row, column=index).font = Font(bold=True)
    sheet.freeze_panes = "A5"
    guide = book.create_sheet("Hướng dẫn")
    for line in [(LABEL, ""), ("", ""), *GUIDE]:
        guide.append(list(line))
    guide["A1"].font = Font(bold=True, color="C00000")
    guide.column_dimensions["A"].width, guide.column_dimensions["B"].width = 24, 110
    for row in guide.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    book.properties.creator = book.properties.lastModifiedBy = "Hệ thống quy trình nội bộ"
    book.properties.title = LABEL
    book.properties.created = book.properties.modified = FIXED_TIME
    return book


def reproducible(book: Workbook) -> bytes:
    """The workbook with fixed zip dates (openpyxl stamps the current time into docProps/core.xml too)."""
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "docProps/core.xml":
                data = _fixed_core(data)
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)
    return out.getvalue()


def _fixed_core(data: bytes) -> bytes:
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Tạo tệp bộ chỉ số DTI mẫu (ví dụ, không phải bộ chỉ số chính thức)")
    parser.add_argument("--out", type=Path, default=OUT, help="tệp ghi ra (mặc định processes/dti/bo_chi_so_mau.xlsx)")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(reproducible(workbook()))
    print(args.out)


if __name__ == "__main__":
    main()
