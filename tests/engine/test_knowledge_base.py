"""Hotline 1022 knowledge base: writing, publishing and searching question–answer articles (docs/hotline.md)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.domain.errors import Forbidden, InvalidData, NotFound
from engine.domain.hotline import FIELDS, FIELDS_BY_CODE
from engine.persistence.models import KbArticle, User
from engine.persistence.uow import UnitOfWork
from engine.services import knowledge_base as kb
from tests.engine.conftest import Clock, add_people

PERMIT = {"field": "thu_tuc_hanh_chinh", "question": "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ cần giấy tờ gì?",
          "answer": "Đơn đề nghị cấp giấy phép, bản sao giấy chứng nhận quyền sử dụng đất và hai bộ bản vẽ thiết kế.",
          "keywords": "giấy phép xây dựng, nhà ở"}
ROAD = {"field": "giao_thong", "question": "Đèn giao thông ở ngã tư bị hỏng thì báo ở đâu?",
        "answer": "Gọi 1022; điện thoại viên chuyển phản ánh cho Sở Giao thông vận tải để khắc phục.", "keywords": ""}
FEE = {"field": "thu_tuc_hanh_chinh", "question": "Lệ phí đăng ký khai sinh là bao nhiêu?",
       "answer": "Đăng ký khai sinh đúng hạn được miễn lệ phí; thủ tục làm tại UBND cấp xã.", "keywords": "hộ tịch"}


@pytest.fixture
def users(uow: Callable[[], UnitOfWork], session_factory: sessionmaker[Session]) -> dict[str, User]:
    return add_people(uow, session_factory, {
        "tongdai": ("Nguyễn Thị Tổng Đài", "ttpvhcc", ["tong_dai_vien"]),
        "qt": ("Nguyễn Thị Quản", "ttpvhcc", ["quan_tri"]),
        "cv": ("Trần Văn Chuyên", "ttpvhcc", ["chuyen_vien"]),
    }, {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})


def write(uow: Callable[[], UnitOfWork], actor: User, data: dict[str, str], publish: bool = True,
          clock: Clock | None = None) -> int:
    with uow() as work:
        return kb.create(work, actor, data, publish=publish, clock=clock).id


def questions(uow: Callable[[], UnitOfWork], actor: User | None, query: str, **options: object) -> list[str]:
    with uow() as work:
        return [a.question for a in kb.search(work, actor, query, **options).articles]  # type: ignore[arg-type]


def test_fields_are_the_decisions_list() -> None:
    codes = [f.code for f in FIELDS]
    assert len(codes) == len(set(codes)) == len(FIELDS_BY_CODE) == 19
    assert FIELDS_BY_CODE["thu_tuc_hanh_chinh"].label_vi == "Thủ tục hành chính các cấp"
    assert codes[-1] == "khac"


def test_normalised_text_drops_diacritics_and_d() -> None:
    assert kb.normalise("Đăng ký ĐẤT đai – Cấp GIẤY phép!") == " dang ky dat dai cap giay phep "
    assert kb.normalise("") == " "


def test_search_with_and_without_diacritics(uow: Callable[[], UnitOfWork], users: dict[str, User],
                                            clock: Clock) -> None:
    tongdai = users["tongdai"]
    for data in (PERMIT, ROAD):
        write(uow, tongdai, data, clock=clock)
        clock.advance(minutes=1)
    # without diacritics finds text with them
    assert questions(uow, None, "thu tuc cap giay phep") == [PERMIT["question"]]
    # with diacritics finds the same, and text typed without diacritics
    assert questions(uow, None, "thủ tục cấp giấy phép") == [PERMIT["question"]]
    plain = write(uow, tongdai, {"field": "dien", "question": "Cat dien dot xuat bao lau thi co lai?",
                                 "answer": "Thuong trong 4 gio.", "keywords": ""}, clock=clock)
    with uow() as work:
        assert [a.id for a in kb.search(work, None, "Cắt điện đột xuất").articles] == [plain]
    # đ and d are the same letter, capitals do not matter
    assert questions(uow, None, "DEN GIAO THONG") == [ROAD["question"]]
    assert questions(uow, None, "đèn") == [ROAD["question"]]
    # a word's start matches (typing as you go), not its middle
    assert questions(uow, None, "giay ph") == [PERMIT["question"]]
    assert questions(uow, None, "iay") == []


def test_every_word_is_required_and_keywords_count(uow: Callable[[], UnitOfWork], users: dict[str, User],
                                                   clock: Clock) -> None:
    for data in (PERMIT, ROAD, FEE):
        write(uow, users["tongdai"], data, clock=clock)
        clock.advance(minutes=1)
    assert questions(uow, None, "giay phep khai sinh") == []
    assert questions(uow, None, "ho tich") == [FEE["question"]]  # only in the keywords
    assert questions(uow, None, "1022 so giao thong") == [ROAD["question"]]  # answer words


def test_question_hits_before_answer_hits_then_newest(uow: Callable[[], UnitOfWork], users: dict[str, User],
                                                      clock: Clock) -> None:
    in_question = write(uow, users["tongdai"], PERMIT, clock=clock)  # "thủ tục" in the question
    clock.advance(hours=1)
    in_answer = write(uow, users["tongdai"], FEE, clock=clock)  # "thủ tục" in the answer only, newer
    clock.advance(hours=1)
    newer = write(uow, users["tongdai"], dict(PERMIT, question="Thủ tục gia hạn giấy phép xây dựng?"), clock=clock)
    with uow() as work:
        result = kb.search(work, None, "thu tuc")
        assert [a.id for a in result.articles] == [newer, in_question, in_answer]
        assert result.total == 3 and result.words == ("thu", "tuc")
        # bounded
        assert [a.id for a in kb.search(work, None, "thu tuc", limit=1).articles] == [newer]
        assert kb.search(work, None, "thu tuc", limit=1).total == 3
        # empty query: newest first
        assert [a.id for a in kb.search(work, None, "").articles] == [newer, in_answer, in_question]


def test_field_filter(uow: Callable[[], UnitOfWork], users: dict[str, User], clock: Clock) -> None:
    for data in (PERMIT, ROAD, FEE):
        write(uow, users["tongdai"], data, clock=clock)
    assert questions(uow, None, "", field="giao_thong") == [ROAD["question"]]
    assert questions(uow, None, "thu tuc", field="giao_thong") == []
    assert sorted(questions(uow, None, "", field="thu_tuc_hanh_chinh")) == sorted([PERMIT["question"],
                                                                                  FEE["question"]])


def test_unpublished_hidden_from_public_and_other_users(uow: Callable[[], UnitOfWork], users: dict[str, User],
                                                        clock: Clock) -> None:
    draft = write(uow, users["tongdai"], PERMIT, publish=False, clock=clock)
    assert questions(uow, None, "giay phep", published_only=False) == []
    assert questions(uow, users["cv"], "giay phep", published_only=False) == []
    assert questions(uow, users["tongdai"], "giay phep") == []
    assert questions(uow, users["tongdai"], "giay phep", published_only=False) == [PERMIT["question"]]
    with uow() as work, pytest.raises(NotFound):
        kb.get(work, None, draft)
    with uow() as work:
        article = kb.set_published(work, users["tongdai"], draft, True, clock=clock)
        assert article.is_published and article.published_at == clock()
    assert questions(uow, None, "giay phep") == [PERMIT["question"]]
    with uow() as work:
        assert not kb.set_published(work, users["qt"], draft, False).is_published
    assert questions(uow, users["cv"], "giay phep") == []


def test_edit_keeps_search_text_in_step(uow: Callable[[], UnitOfWork], users: dict[str, User], clock: Clock) -> None:
    article_id = write(uow, users["tongdai"], ROAD, clock=clock)
    clock.advance(minutes=5)
    with uow() as work:
        kb.edit(work, users["qt"], article_id, dict(ROAD, question="Cây xanh ngã đổ chắn đường báo ở đâu?"),
                clock=clock)
    assert questions(uow, None, "den giao thong") == []
    assert questions(uow, None, "cay xanh nga do") == ["Cây xanh ngã đổ chắn đường báo ở đâu?"]
    with uow() as work:
        row = work.session.get(KbArticle, article_id)
        assert row is not None and row.updated_at == clock() and row.author_name == "Nguyễn Thị Tổng Đài"
        assert row.search_question == " cay xanh nga do chan duong bao o dau "


def test_only_operators_and_admins_write(uow: Callable[[], UnitOfWork], users: dict[str, User]) -> None:
    with uow() as work, pytest.raises(Forbidden):
        kb.create(work, users["cv"], PERMIT)
    with uow() as work, pytest.raises(Forbidden):
        kb.create(work, None, PERMIT)
    article_id = write(uow, users["qt"], PERMIT)
    for attempt in (lambda w: kb.edit(w, users["cv"], article_id, ROAD),
                    lambda w: kb.set_published(w, users["cv"], article_id, False),
                    lambda w: kb.delete(w, users["cv"], article_id)):
        with uow() as work, pytest.raises(Forbidden):
            attempt(work)
    assert questions(uow, users["cv"], "giay phep") == [PERMIT["question"]]
    with uow() as work:
        kb.delete(work, users["tongdai"], article_id)
    with uow() as work:
        assert work.session.scalars(select(KbArticle)).all() == []
        with pytest.raises(NotFound):
            kb.delete(work, users["tongdai"], article_id)


def test_bad_input_is_refused_and_changes_nothing(uow: Callable[[], UnitOfWork], users: dict[str, User]) -> None:
    with uow() as work, pytest.raises(InvalidData) as refused:
        kb.create(work, users["tongdai"], {"field": "bong_da", "question": "  ", "answer": "x" * 10_001,
                                           "keywords": "k" * 501})
    assert {p.path for p in refused.value.details} == {"field", "question", "answer", "keywords"}
    assert refused.value.message.vi.startswith("Chưa lưu được")
    article_id = write(uow, users["tongdai"], PERMIT)
    with uow() as work, pytest.raises(InvalidData):
        kb.edit(work, users["tongdai"], article_id, dict(PERMIT, answer=""))
    assert questions(uow, None, "giay phep") == [PERMIT["question"]]
    with uow() as work:
        with pytest.raises(InvalidData) as long_query:
            kb.search(work, None, "a" * 201)
        assert "200 ký tự" in long_query.value.message.vi
        with pytest.raises(InvalidData):
            kb.search(work, None, " ".join(f"w{i}" for i in range(11)))
        with pytest.raises(InvalidData) as field:
            kb.search(work, None, "thu tuc", field="bong_da")
        assert field.value.message.vi == "Lĩnh vực không có trong danh mục."
        # punctuation alone is no word: every published article, nothing breaks (no LIKE wildcards pass)
        assert [a.id for a in kb.search(work, None, "% _ '").articles] == [article_id]


def test_search_stays_bounded(uow: Callable[[], UnitOfWork], users: dict[str, User], clock: Clock) -> None:
    with uow() as work:
        for i in range(kb.MAX_RESULTS + 5):
            work.add(KbArticle(field="khac", question=f"Câu hỏi số {i}", answer="Trả lời", keywords="",
                               search_question=kb.normalise(f"Câu hỏi số {i}"), search_text=kb.normalise("cau hoi"),
                               is_published=True, author_name="", created_at=clock(),
                               updated_at=clock() + timedelta(seconds=i)))
        work.commit()
    with uow() as work:
        result = kb.search(work, None, "cau hoi", limit=500)
        assert len(result.articles) == kb.MAX_RESULTS and result.total == kb.MAX_RESULTS + 5
