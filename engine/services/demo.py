"""Demo organisation for the embedded default: units and one account per role."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from engine.domain.enums import Role
from engine.persistence.models import KbArticle, MailAccount, User, utcnow
from engine.persistence.uow import UnitOfWork
from engine.services import identity, knowledge_base

UNITS = [
    ("sttt", "Sở Thông tin và Truyền thông"),
    ("so_tc", "Sở Tài chính"),
    ("so_yt", "Sở Y tế"),
    ("ttcds", "Trung tâm Chuyển đổi số"),
    # The meeting procedures from Chính phủ to cấp xã (meeting_planned, meeting_unscheduled).
    ("vpubnd", "Văn phòng UBND tỉnh"),
    ("ubnd_caolanh", "UBND huyện Cao Lãnh"),
    ("vnpt", "VNPT Đồng Tháp"),
    # Chỉ số chuyển đổi số (dti_assessment): the chairman of UBND tỉnh approves the ranking (DTI_APPROVER_UNIT).
    ("ubnd_tinh", "UBND tỉnh Đồng Tháp"),
    # Tổng đài 1022 (1244/QĐ-UBND): its operators work at the centre for administrative procedures.
    ("ttpvhcc", "Trung tâm Kiểm soát thủ tục hành chính và Phục vụ hành chính công"),
    # The agencies the hotline's routing table (processes/hotline_routing.dmn) names; so_tc, so_yt and
    # ubnd_caolanh are above.
    ("so_gd", "Sở Giáo dục và Đào tạo"),
    ("so_ldtbxh", "Sở Lao động - Thương binh và Xã hội"),
    ("so_tnmt", "Sở Tài nguyên và Môi trường"),
    ("so_xd", "Sở Xây dựng"),
    ("so_gtvt", "Sở Giao thông vận tải"),
    ("so_ct", "Sở Công Thương"),
    ("so_nnptnt", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("so_khdt", "Sở Kế hoạch và Đầu tư"),
    ("so_vhttdl", "Sở Văn hóa, Thể thao và Du lịch"),
    ("ubnd_tp_caolanh", "UBND thành phố Cao Lãnh"),
    ("ubnd_tp_sadec", "UBND thành phố Sa Đéc"),
    ("ubnd_tp_hongngu", "UBND thành phố Hồng Ngự"),
    ("ubnd_thapmuoi", "UBND huyện Tháp Mười"),
    ("ubnd_tamnong", "UBND huyện Tam Nông"),
    ("ubnd_thanhbinh", "UBND huyện Thanh Bình"),
    ("ubnd_hongngu", "UBND huyện Hồng Ngự"),
    ("ubnd_tanhong", "UBND huyện Tân Hồng"),
    ("ubnd_lapvo", "UBND huyện Lấp Vò"),
    ("ubnd_laivung", "UBND huyện Lai Vung"),
    ("ubnd_chauthanh", "UBND huyện Châu Thành"),
]
# (username, full name, unit, roles): one per role and lane of the bundled procedures. Each gets the
# address username@DEMO_DOMAIN, where their notifications (one-time password links among them) go.
DEMO_DOMAIN = "dongthap.gov.vn"
PEOPLE = [
    ("donvi", "Trần Thị Bình", "so_tc", ["chuyen_vien"]),
    ("lanhdao_donvi", "Võ Minh Đức", "so_tc", ["lanh_dao"]),
    ("donvi_yte", "Huỳnh Thị Lan", "so_yt", ["chuyen_vien"]),
    ("chuyenvien", "Lê Văn Cường", "sttt", ["chuyen_vien"]),
    ("vanthu", "Phạm Thị Hạnh", "sttt", ["van_thu"]),
    ("lanhdao", "Nguyễn Quốc Hùng", "sttt", ["lanh_dao"]),
    ("quantri", "Đặng Thanh Tâm", "sttt", ["quan_tri"]),
    # Trung tâm Chuyển đổi số: its leader assigns project-software requests to one of its experts.
    ("lanhdao_ttcds", "Trương Văn Khoa", "ttcds", ["lanh_dao"]),
    ("chuyenvien_ttcds", "Ngô Thị Mai", "ttcds", ["chuyen_vien"]),
    ("chuyenvien_ttcds2", "Đỗ Minh Tuấn", "ttcds", ["chuyen_vien"]),
    # Videoconferences (videoconference_support): the centre's technician records test runs, serves the
    # meeting and notes incidents; its experts answer bookings and take urgent ones by phone; `donvi`
    # (Sở Tài chính) registers meetings and gets the confirmations at donvi@DEMO_DOMAIN.
    ("kythuat_ttcds", "Phan Thanh Kỹ", "ttcds", ["ky_thuat"]),
    # Meetings from Chính phủ to cấp xã: Văn phòng UBND tỉnh records the notice and evaluates, its leader is
    # warned when the rehearsal or the endpoints run late; the district and the telecom operator receive the
    # notice; technicians (ky_thuat) rehearse, connect, serve and disconnect.
    ("chuyenvien_vpubnd", "Lý Thị Thu", "vpubnd", ["chuyen_vien"]),
    ("lanhdao_vpubnd", "Phan Văn Thành", "vpubnd", ["lanh_dao"]),
    ("kythuat_vpubnd", "Mai Văn Phúc", "vpubnd", ["ky_thuat"]),
    ("chuyenvien_huyen", "Cao Thị Ngọc", "ubnd_caolanh", ["chuyen_vien"]),
    ("kythuat_huyen", "Lâm Văn Sang", "ubnd_caolanh", ["ky_thuat"]),
    ("kythuat_vnpt", "Tạ Quang Vinh", "vnpt", ["ky_thuat"]),
    # DTI: lanhdao/chuyenvien (Sở TT&TT) import the index set, open the round and evaluate; donvi, donvi_yte and
    # chuyenvien_huyen self-assess their units; the chairman approves.
    ("chutich", "Lê Văn Chánh", "ubnd_tinh", ["lanh_dao"]),
    # Tổng đài 1022: the operator writes, publishes and searches the knowledge base (docs/hotline.md).
    ("tongdai", "Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"]),
    # hotline_1022: tickets the routing table gives to the centre (its default) are answered by its focal point;
    # Sở Y tế's focal point is donvi_yte, its head escalations go to lanhdao_yte.
    ("daumoi_1022", "Lưu Thị Hằng", "ttpvhcc", ["chuyen_vien"]),
    ("lanhdao_1022", "Nguyễn Văn Thanh", "ttpvhcc", ["lanh_dao"]),
    ("lanhdao_yte", "Châu Văn Minh", "so_yt", ["lanh_dao"]),
]
# A few knowledge-base articles of the hotline 1022, published (field, question, answer, keywords).
KB_ARTICLES = [
    ("thu_tuc_hanh_chinh", "Tra cứu tình trạng hồ sơ thủ tục hành chính đã nộp bằng cách nào?",
     "Nhập mã hồ sơ ghi trên giấy tiếp nhận tại Cổng dịch vụ công của tỉnh, mục Tra cứu hồ sơ; hoặc gọi 1022 và "
     "đọc mã hồ sơ để điện thoại viên tra cứu giúp.", "tra cứu hồ sơ, mã hồ sơ, tình trạng"),
    ("thu_tuc_hanh_chinh", "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ cần những giấy tờ gì?",
     "Đơn đề nghị cấp giấy phép xây dựng, bản sao giấy chứng nhận quyền sử dụng đất và hai bộ bản vẽ thiết kế. "
     "Nộp tại Bộ phận Một cửa cấp huyện hoặc qua dịch vụ công trực tuyến; thời hạn giải quyết 15 ngày.",
     "giấy phép xây dựng, nhà ở"),
    ("dien", "Khu vực bị cúp điện đột xuất thì báo ở đâu?",
     "Gọi tổng đài chăm sóc khách hàng của Điện lực hoặc 1022; điện thoại viên chuyển phản ánh cho Công ty Điện lực "
     "để khắc phục.", "mất điện, cúp điện"),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    unit: str
    roles: str
    password: str | None  # None when the account already existed (password unchanged)
    email: str = ""


def load(uow: UnitOfWork) -> list[DemoAccount]:
    """Create what is missing; existing accounts keep their passwords (and get an e-mail if they had none)."""
    units = {code: identity.ensure_unit(uow, code, name) for code, name in UNITS}
    unit_names = dict(UNITS)
    # Their official mailboxes in the `local` mail directory, so that a request naming their addresses
    # passes the mail-directory check (project-software accounts need one).
    mailboxes = set(uow.session.scalars(select(MailAccount.address)))
    accounts = []
    for username, full_name, unit, roles in PEOPLE:
        password = None
        email = f"{username}@{DEMO_DOMAIN}"
        existing = uow.session.scalar(select(User).where(User.username == username))
        if existing is None:
            password = secrets.token_urlsafe(9)
            identity.create_user(uow, username, full_name, password, unit, roles, email=email)
        elif not existing.email:
            existing.email = email
        if email not in mailboxes:
            uow.add(MailAccount(address=email, display_name=full_name, unit_name=unit_names[unit]))
        accounts.append(DemoAccount(username, full_name, units[unit].name,
                                    ", ".join(Role(r).label_vi for r in roles), password, email))
    uow.session.flush()
    if uow.session.scalar(select(KbArticle.id).limit(1)) is None:
        author = uow.session.scalar(select(User).where(User.username == "tongdai"))
        for field, question, answer, keywords in KB_ARTICLES:
            article = KbArticle(author_id=author.id if author else None, author_name=author.full_name if author else "",
                                is_published=True, published_at=utcnow())
            knowledge_base.fill(article, field, question, answer, keywords, utcnow())
            uow.add(article)
    uow.commit()
    return accounts
