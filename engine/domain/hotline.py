"""The public-service hotline 1022 (Quyết định 1244/QĐ-UBND tỉnh Đồng Tháp): the fields (lĩnh vực) it answers on.

The decision lists what the hotline takes: administrative procedures at every level, socio-economic
matters and public services, failures of technical infrastructure, investment, tourism, events and
other fields. Knowledge-base articles (and, later, tickets) carry one of these codes.
"""
from __future__ import annotations

from collections.abc import Iterable
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


# ---------------------------------------------------------------- personal data (Nghị định 13/2023/NĐ-CP)

#: Roles that need a citizen's full phone number and e-mail address (to call back and reply): the operators.
#: Everyone else who sees tickets (leaders on the board, agencies' focal points, administrators) sees them
#: masked; each view of a full contact is audited (docs/hotline.md).
CONTACT_ROLES = frozenset({"tong_dai_vien"})
#: Roles that see the monitoring board and the statistics: operators, leaders and administrators.
BOARD_ROLES = frozenset({"tong_dai_vien", "lanh_dao", "quan_tri"})


def may_see_contacts(roles: Iterable[str]) -> bool:
    return not CONTACT_ROLES.isdisjoint(roles)


def mask_phone(phone: str) -> str:
    """0912345678 → 091****678: the network prefix and the last three digits stay, for recognising a caller."""
    if not phone:
        return ""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]


def mask_email(email: str) -> str:
    """nguyen.van.a@gmail.com → n***@gmail.com."""
    if not email:
        return ""
    local, sep, domain = email.partition("@")
    if not sep:
        return "***"
    return (local[:1] or "*") + "***@" + domain


def mask_name(name: str) -> str:
    """Nguyễn Văn An → Nguyễn V. A. (the family name and initials)."""
    words = name.split()
    if len(words) <= 1:
        return name
    return " ".join([words[0], *(w[:1] + "." for w in words[1:])])


def shown_contact(name: str, phone: str, email: str, *, masked: bool, name_key: str = "caller_name") -> dict[str, str]:
    """A citizen's contact as a viewer may see it: masked (mask_*) or in full, keyed for a view model."""
    if masked:
        name, phone, email = mask_name(name), mask_phone(phone), mask_email(email)
    return {name_key: name, "phone": phone, "email": email}
