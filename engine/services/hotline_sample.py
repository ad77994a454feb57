"""Realistic hotline 1022 tickets for a demo board and the statistics tests: contacts from every channel taken
through the real intake, then handled through the real process (engine.services.instances) on a clock moved
across the period — classified, answered from the knowledge base, referred to 113/114/115, routed to the
agencies and answered, or left open (and, as time goes on, overdue).

`generate` returns what it did, ticket by ticket (the ground truth the statistics are checked against).
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.domain.enums import Role, TaskStatus
from engine.domain.errors import InvalidData
from engine.domain.messages import Message
from engine.persistence.models import HotlineTicket, HumanTask, Unit, User, UserRole
from engine.persistence.uow import UnitOfWork
from engine.services import hotline, instances
from engine.services.context import Services

#: The longest a generated ticket's handling lasts after its intake: every step falls in the period.
HANDLING = timedelta(hours=3)
FIRST_HOUR, WORKING_SPAN = time(7, 0), timedelta(hours=9, minutes=30)
MAX_COUNT = 2000

#: Channels, weighted as a provincial centre sees them (most contacts are calls).
CHANNELS = (("dien_thoai", 50), ("web", 12), ("zalo", 14), ("email", 8), ("facebook", 8), ("chat", 6), ("khac", 2))
#: What happens to a ticket, weighted.
OUTCOMES = (("new", 8), ("referred", 12), ("answered", 38), ("agency", 32), ("agency_open", 10))
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Đặng", "Bùi", "Đỗ", "Lâm")
MIDDLE = ("Văn", "Thị", "Minh", "Thanh", "Ngọc", "Hoàng", "Hữu", "Kim")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Hạnh", "Hùng", "Lan", "Long", "Mai", "Nam", "Phúc", "Quyên", "Tâm",
         "Thảo", "Trí", "Tuấn", "Vy", "Yến")
DISTRICTS = ("tp_caolanh", "tp_sadec", "tp_hongngu", "caolanh", "thapmuoi", "tamnong", "thanhbinh", "hongngu",
             "tanhong", "lapvo", "laivung", "chauthanh")
#: Questions and reports by field, as citizens put them.
CONTENT: dict[str, tuple[str, ...]] = {
    "thu_tuc_hanh_chinh": (
        "Cho hỏi thủ tục cấp lại giấy khai sinh bản chính cần những giấy tờ gì và nộp ở đâu?",
        "Hồ sơ đăng ký biến động đất đai nộp từ tháng trước đến nay chưa có kết quả, nhờ kiểm tra giúp.",
        "Tôi nộp hồ sơ trên Cổng dịch vụ công nhưng không thanh toán lệ phí trực tuyến được.",
        "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ hiện nay là bao nhiêu?",
        "Góp ý: bộ phận một cửa xã nên có thêm ghế chờ và nước uống cho người dân.",
    ),
    "giao_duc": ("Xin hỏi thời gian tuyển sinh vào lớp 10 năm nay và cách đăng ký nguyện vọng trực tuyến.",
                 "Trường tiểu học thu thêm các khoản ngoài quy định, phụ huynh muốn phản ánh."),
    "y_te": ("Trạm y tế xã đóng cửa trong giờ hành chính, người dân không tiêm ngừa được cho trẻ.",
             "Cho hỏi thủ tục chuyển tuyến bảo hiểm y tế lên bệnh viện tỉnh."),
    "bao_hiem": ("Tôi nghỉ việc đã lâu, muốn hỏi thủ tục hưởng bảo hiểm xã hội một lần.",),
    "an_sinh_xa_hoi": ("Mẹ tôi trên 80 tuổi chưa nhận được trợ cấp xã hội tháng này.",),
    "dich_benh": ("Khu phố có nhiều ca sốt xuất huyết, đề nghị phun thuốc diệt muỗi.",),
    "an_toan_thuc_pham": ("Quán ăn đầu hẻm chế biến thực phẩm mất vệ sinh, nhiều người bị đau bụng.",),
    "moi_truong": ("Cơ sở chăn nuôi heo xả nước thải ra kênh gây mùi hôi nhiều ngày nay.",),
    "xay_dung": ("Công trình bên cạnh xây lấn sang phần đất nhà tôi, đề nghị kiểm tra giấy phép.",),
    "giao_thong": ("Đoạn đường tỉnh 848 có ổ gà lớn, ban đêm rất nguy hiểm cho người đi xe máy.",
                   "Đèn tín hiệu giao thông ở ngã tư trung tâm bị hỏng từ sáng."),
    "dien": ("Khu vực ấp 3 mất điện từ tối qua đến giờ chưa có điện lại.",),
    "nuoc": ("Nước máy mấy hôm nay đục và có mùi lạ, gia đình không dám sử dụng.",),
    "rac_thai": ("Rác tồn đọng ở chợ phường đã ba ngày chưa được thu gom.",),
    "thien_tai": ("Bờ kè ven sông bị sạt lở, nhiều hộ dân lo lắng cần di dời.",),
    "ha_tang_ky_thuat": ("Cây xanh trên đường Nguyễn Huệ bị gãy nhánh, có nguy cơ đổ vào nhà dân.",
                         "Đèn chiếu sáng công cộng cả tuyến hẻm không sáng gần một tuần."),
    "dau_tu": ("Doanh nghiệp muốn tìm hiểu chính sách ưu đãi đầu tư vào khu công nghiệp Sa Đéc.",),
    "du_lich": ("Xin thông tin các điểm tham quan và lễ hội ở làng hoa Sa Đéc dịp Tết.",),
    "su_kien": ("Cho hỏi lịch tổ chức Lễ hội Xoài Cao Lãnh năm nay.",),
    "khac": ("Tôi muốn hỏi số điện thoại đường dây nóng của Công an tỉnh.",),
}
REFERRALS = (
    ("113", "khac", "Có nhóm thanh niên tụ tập đánh nhau trước cổng chợ, đề nghị can thiệp."),
    ("114", "khac", "Phát hiện khói lửa bốc lên từ kho hàng gần nhà, nghi có cháy."),
    ("115", "y_te", "Có người bị tai nạn giao thông bất tỉnh ở đầu cầu, cần xe cấp cứu."),
    ("don_thu", "thu_tuc_hanh_chinh", "Tôi muốn khiếu nại quyết định thu hồi đất của UBND xã."),
)
ANSWERS = (
    "Ông/bà nộp hồ sơ tại Bộ phận Một cửa UBND cấp xã hoặc trên Cổng dịch vụ công quốc gia; thời hạn giải quyết "
    "theo thủ tục đã công bố.",
    "Tổng đài đã hướng dẫn theo cơ sở dữ liệu hỏi đáp; người dân có thể tra cứu thêm trên Cổng thông tin tỉnh.",
    "Đã cung cấp thông tin liên hệ và giờ làm việc của cơ quan phụ trách.",
)


@dataclass
class GeneratedTicket:
    """What the generator did with one ticket (its ground truth)."""

    code: str
    channel: str
    outcome: str
    operator_id: int | None
    created_at: datetime
    field: str = ""
    agency: str = ""
    state: str = "moi"
    closed_at: datetime | None = None
    answered_at: datetime | None = None
    #: The earliest due date of the tasks still ready (an open ticket).
    due_at: datetime | None = None


@dataclass
class Simulation:
    tickets: list[GeneratedTicket] = field(default_factory=list)

    def overdue_at(self, now: datetime) -> int:
        """Open tickets with a ready task past its due date at `now` (nothing generated finishes late)."""
        return sum(1 for t in self.tickets if t.closed_at is None and t.due_at is not None and t.due_at < now)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def window(services: Services, first_day: date, last_day: date | None = None, until: datetime | None = None,
           since: datetime | None = None) -> tuple[datetime, datetime]:
    """[first_day 00:00, the day after last_day 00:00) in Vietnam, cut to [since, until)."""
    tz = ZoneInfo(services.settings.timezone)
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    end = datetime.combine((last_day or first_day) + timedelta(days=1), time(0), tzinfo=tz)
    return max(start, since) if since else start, min(end, until) if until else end


def _times(rng: random.Random, start: datetime, end: datetime, count: int, tz: ZoneInfo) -> list[datetime]:
    """`count` intake times in working hours (07:00–16:30) whose handling ends before `end`."""
    days = [start.astimezone(tz).date() + timedelta(days=n) for n in range((end - start).days + 2)]
    times: list[datetime] = []
    for _n in range(count):
        for _try in range(200):
            moment = datetime.combine(rng.choice(days), FIRST_HOUR, tzinfo=tz) + WORKING_SPAN * rng.random()
            moment = moment.replace(microsecond=0)
            if start <= moment and moment + HANDLING <= end:
                break
        else:
            raise InvalidData(Message("Khoảng thời gian quá ngắn để tạo phiếu mẫu.",
                                      "The period is too short for sample tickets."))
        times.append(moment)
    return sorted(times)


def _operators(uow: UnitOfWork) -> list[User]:
    return list(uow.session.scalars(
        select(User).join(Unit, Unit.id == User.unit_id).join(UserRole, UserRole.user_id == User.id)
        .where(Unit.code == hotline.OPERATOR_UNIT, UserRole.role == Role.TONG_DAI_VIEN.value,
               User.is_active.is_(True)).order_by(User.id)).unique())


def _ready(uow: UnitOfWork, instance_id: int | None) -> list[HumanTask]:
    return list(uow.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY).order_by(HumanTask.id)))


def _performer(uow: UnitOfWork, task: HumanTask) -> User | None:
    for candidate in task.candidates:
        query = select(User).join(UserRole, UserRole.user_id == User.id).where(
            UserRole.role == candidate.role, User.is_active.is_(True)).order_by(User.id)
        if candidate.unit_id is not None:
            query = query.where(User.unit_id == candidate.unit_id)
        for user in uow.session.scalars(query).unique():
            if instances.can_perform(user, task):
                return user
    return None


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _contact(rng: random.Random, channel: str, name: str) -> dict[str, str]:
    phone = "09" + "".join(str(rng.randrange(10)) for _ in range(8))
    address = f"dan{rng.randrange(1000, 9999)}@example.vn"
    if channel == "email":
        return {"caller": name, "email": address}
    if channel == "web":
        return {"caller": name, "phone": phone, "email": address}
    return {"caller": name, "phone": phone}


class _Run:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], services: Services, clock: _Clock,
                 rng: random.Random, operators: list[User]) -> None:
        self.uow, self.services, self.clock, self.rng, self.operators = uow_factory, services, clock, rng, operators

    def later(self, low: int, high: int) -> None:
        self.clock.now += timedelta(minutes=self.rng.randint(low, high))

    def complete(self, instance_id: int | None, element_id: str, data: dict[str, object],
                 actor: User | None = None) -> bool:
        with self.uow() as u:
            task = next((t for t in _ready(u, instance_id) if t.element_id == element_id), None)
            performer = actor if actor is not None else _performer(u, task) if task else None
            if task is None or performer is None:
                return False
            instances.complete_task(u, self.services, performer, task.id, data)
            return True

    def one(self, at: datetime) -> GeneratedTicket:
        rng, clock = self.rng, self.clock
        clock.now = at
        outcome = rng.choices([o for o, _w in OUTCOMES], [w for _o, w in OUTCOMES])[0]
        channel = rng.choices([c for c, _w in CHANNELS], [w for _c, w in CHANNELS])[0]
        operator = rng.choice(self.operators)
        typed = channel in ("dien_thoai", "khac")
        if outcome == "referred":
            kenh, fld, content = rng.choice(REFERRALS)
        else:
            fld = rng.choice(list(CONTENT))
            kenh, content = "", rng.choice(CONTENT[fld])
        with self.uow() as u:
            contact = _contact(rng, channel, _person(rng))
            ticket = hotline.intake(u, self.services, operator if typed else None, channel=channel,
                                    content=content, caller=contact["caller"], phone=contact.get("phone"),
                                    email=contact.get("email"))
            made = GeneratedTicket(ticket.code, channel, outcome, operator.id if typed else None, at)
            instance_id = ticket.instance_id
        if outcome == "new":
            return self._finish(made, instance_id)
        self.later(3, 15)
        district = fld in ("thu_tuc_hanh_chinh", "ha_tang_ky_thuat", "rac_thai") and rng.random() < 0.4
        how = {"referred": "chuyen_kenh", "answered": "tra_loi_ngay"}.get(outcome, "chuyen_co_quan")
        self.complete(instance_id, "Task_PhanLoai", {
            "linh_vuc": fld, "cap_do": "khan" if outcome == "referred" else "thuong",
            "dia_ban": rng.choice(DISTRICTS) if district else "tinh", "huong_xu_ly": how, "kenh_chuyen": kenh},
            operator)
        made.field = fld
        if outcome == "referred":
            made.state, made.closed_at = hotline.TicketState.REFERRED.value, clock.now
        elif outcome == "answered":
            self.later(2, 10)
            self.complete(instance_id, "Task_TraLoiNgay", {
                "tra_loi": rng.choice(ANSWERS), "cach_phan_hoi": "Trả lời trực tiếp cho người dân",
                "cong_khai": rng.random() < 0.5}, operator)
            made.state, made.closed_at, made.answered_at = "da_tra_loi", clock.now, clock.now
        else:
            made.state = hotline.TicketState.WITH_AGENCY.value
            if outcome == "agency":
                self.later(30, 120)
                if self.complete(instance_id, "Task_CoQuanTraLoi", {
                        "tra_loi": "Cơ quan đã kiểm tra và xử lý nội dung phản ánh; kết quả đã báo Tổng đài.",
                        "nguoi_tra_loi": "Chuyên viên đầu mối"}):
                    self.later(5, 30)
                    self.complete(instance_id, "Task_PhanHoiCongDan", {
                        "tra_loi": "Cơ quan chức năng đã xử lý, cảm ơn ông/bà đã phản ánh.",
                        "cach_phan_hoi": "Gọi lại cho người dân", "cong_khai": False}, operator)
                    made.state, made.closed_at, made.answered_at = "da_tra_loi", clock.now, clock.now
                else:
                    made.outcome = "agency_open"  # nobody at that agency takes the task yet
        return self._finish(made, instance_id)

    def _finish(self, made: GeneratedTicket, instance_id: int | None) -> GeneratedTicket:
        with self.uow() as u:
            ticket = u.session.scalar(select(HotlineTicket).where(HotlineTicket.code == made.code))
            made.agency = ticket.agency_code if ticket else ""
            if made.closed_at is None:
                dues = [t.due_at for t in _ready(u, instance_id) if t.due_at is not None]
                made.due_at = min(dues) if dues else None
        return made


def generate(uow_factory: Callable[[], UnitOfWork], services: Services, first_day: date,
             last_day: date | None = None, count: int = 40, seed: int = 1022,
             until: datetime | None = None, since: datetime | None = None) -> Simulation:
    """`count` tickets received between `first_day` and `last_day` (Vietnam days; within [since, until)),
    handled through the process on a clock of their own; the bundled hotline_1022 must be published and the
    centre (unit ttpvhcc) have an operator."""
    if not 1 <= count <= MAX_COUNT:
        raise InvalidData(Message(f"Số phiếu mẫu phải từ 1 đến {MAX_COUNT}.",
                                  f"The number of sample tickets must be 1–{MAX_COUNT}."))
    tz = ZoneInfo(services.settings.timezone)
    start, end = window(services, first_day, last_day, until, since)
    rng = random.Random(seed)
    moments = _times(rng, start, end, count, tz)
    clock = _Clock(moments[0])
    own = Services(services.settings, services.adapters, clock=clock, calendar_overrides=services.calendar_overrides)
    with uow_factory() as u:
        operators = _operators(u)
        if not operators:
            hotline.duty_operator(u)  # raises the centre's "no operator" error
        u.session.expunge_all()
    run = _Run(uow_factory, own, clock, rng, operators)
    return Simulation([run.one(moment) for moment in moments])
