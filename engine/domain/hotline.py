"""The public-service hotline 1022 (Quyết định 1244/QĐ-UBND tỉnh Đồng Tháp): the fields (lĩnh vực) it answers on.

The decision lists what the hotline takes: administrative procedures at every level, socio-economic
matters and public services, failures of technical infrastructure, investment, tourism, events and
other fields. Knowledge-base articles (and, later, tickets) carry one of these codes.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    code: str
    label_vi: str
    label_en: str
    #: What the field covers, as the decision words it (shown as a hint).
    covers_vi: str = ""

    def label(self, locale: str = "vi") -> str:
        return self.label_en if locale.startswith("en") else self.label_vi


FIELDS: tuple[Field, ...] = (
    Field("thu_tuc_hanh_chinh", "Thủ tục hành chính các cấp", "Administrative procedures",
          "Cách nộp hồ sơ, tình trạng hồ sơ, phí và lệ phí, dịch vụ công trực tuyến, phản ánh chậm trễ, góp ý"),
    Field("giao_duc", "Giáo dục, tuyển sinh", "Education"),
    Field("y_te", "Y tế", "Health"),
    Field("bao_hiem", "Bảo hiểm", "Insurance"),
    Field("an_sinh_xa_hoi", "An sinh xã hội", "Social security"),
    Field("dich_benh", "Phòng chống dịch bệnh", "Epidemics"),
    Field("an_toan_thuc_pham", "An toàn thực phẩm", "Food safety"),
    Field("moi_truong", "Môi trường", "Environment"),
    Field("xay_dung", "Xây dựng", "Construction"),
    Field("giao_thong", "Giao thông", "Transport"),
    Field("dien", "Điện", "Power"),
    Field("nuoc", "Cấp nước, thoát nước", "Water"),
    Field("rac_thai", "Rác thải", "Waste"),
    Field("thien_tai", "Phòng chống thiên tai", "Natural disasters"),
    Field("ha_tang_ky_thuat", "Hạ tầng kỹ thuật", "Technical infrastructure",
          "Sự cố giao thông, cấp thoát nước, cây xanh, chiếu sáng, điện lực, viễn thông"),
    Field("dau_tu", "Đầu tư", "Investment", "Chủ trương, chính sách ưu đãi đầu tư, khu công nghiệp"),
    Field("du_lich", "Du lịch", "Tourism"),
    Field("su_kien", "Sự kiện", "Events", "Các sự kiện đặc biệt của Tỉnh"),
    Field("khac", "Khác", "Other"),
)

FIELDS_BY_CODE = {f.code: f for f in FIELDS}
