"""Knowledge base of the hotline 1022 (cơ sở dữ liệu hỏi đáp): write, publish and search question–answer articles.

- Operators of the hotline (role tong_dai_vien) and administrators (quan_tri) create, edit, publish,
  unpublish and delete articles.
- Everyone signed in searches; only operators and administrators see unpublished articles. The public
  page (no login) searches published articles only (`actor=None`).
- Search matches words with or without Vietnamese diacritics ("thu tuc" finds "thủ tục" and the reverse;
  đ and d are the same letter): the query and the articles are compared as lower-case ASCII words
  (engine.domain.text). Every word of the query must start a word of the question, the answer or the
  keywords. Hits in the question come first (most query words in the question first), then the most
  recently updated. Results are bounded (MAX_RESULTS).

The search runs portable SQL (LIKE over the normalised columns) on SQLite and PostgreSQL: a scan of a
few thousand short rows, a few milliseconds (bench/knowledge_base.py).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from engine.domain.enums import Role
from engine.domain.errors import Forbidden, InvalidData, NotFound
from engine.domain.hotline import FIELDS_BY_CODE
from engine.domain.messages import Message
from engine.domain.text import ascii_words
from engine.forms.submission import FieldError
from engine.persistence.models import KbArticle, User
from engine.persistence.uow import UnitOfWork

#: Who writes and publishes articles.
EDITOR_ROLES = frozenset({Role.TONG_DAI_VIEN.value, Role.QUAN_TRI.value})
MAX_QUESTION, MAX_ANSWER, MAX_KEYWORDS = 500, 10_000, 500
MAX_QUERY, MAX_QUERY_WORDS = 200, 10
MAX_RESULTS = 50

NOT_EDITOR = Message("Chỉ điện thoại viên của tổng đài và quản trị hệ thống được soạn, công bố hoặc xóa bài hỏi đáp.",
                     "Only hotline operators and administrators write, publish or delete articles.")
NOT_SIGNED_IN = Message("Vui lòng đăng nhập.", "Please sign in.")
NO_ARTICLE = Message("Không tìm thấy câu hỏi – trả lời.", "Article not found.")
INVALID = Message("Chưa lưu được câu hỏi – trả lời: kiểm tra các mục được nêu.",
                  "The article was not saved: see the items listed.")
BAD_QUERY = Message("Từ khóa tìm kiếm không hợp lệ.", "The search is not valid.")
QUERY_TOO_LONG = Message(f"Từ khóa tìm kiếm dài quá {MAX_QUERY} ký tự.",
                         f"The search is longer than {MAX_QUERY} characters.")
TOO_MANY_WORDS = Message(f"Từ khóa tìm kiếm có quá {MAX_QUERY_WORDS} từ.",
                         f"The search has more than {MAX_QUERY_WORDS} words.")
UNKNOWN_FIELD = Message("Lĩnh vực không có trong danh mục.", "Unknown field.")


def normalise(text: str) -> str:
    """The text as searched: ' thu tuc cap giay phep ' (lower-case ASCII words, a space at each end)."""
    words = ascii_words(text)
    return f" {' '.join(words)} " if words else " "


def is_editor(user: User | None) -> bool:
    return user is not None and bool(user.role_codes & EDITOR_ROLES)


def _check_editor(user: User | None) -> User:
    if user is None or not is_editor(user):
        raise Forbidden(NOT_EDITOR)
    return user


def _problem(path: str, vi: str, en: str) -> FieldError:
    return FieldError(path, path, Message(vi, en))


def _clean(data: Mapping[str, object]) -> tuple[str, str, str, str]:
    """field, question, answer, keywords from a form or JSON body; InvalidData listing every problem."""
    def text(key: str) -> str:
        value = data.get(key)
        return value.strip() if isinstance(value, str) else ""

    field, question, answer, keywords = text("field"), text("question"), text("answer"), text("keywords")
    problems = []
    if field not in FIELDS_BY_CODE:
        problems.append(_problem("field", "Chọn lĩnh vực trong danh mục.", "Choose a field from the list."))
    if not question:
        problems.append(_problem("question", "Nhập câu hỏi.", "Enter the question."))
    elif len(question) > MAX_QUESTION:
        problems.append(_problem("question", f"Câu hỏi dài quá {MAX_QUESTION} ký tự.",
                                 f"The question is longer than {MAX_QUESTION} characters."))
    if not answer:
        problems.append(_problem("answer", "Nhập câu trả lời.", "Enter the answer."))
    elif len(answer) > MAX_ANSWER:
        problems.append(_problem("answer", f"Câu trả lời dài quá {MAX_ANSWER} ký tự.",
                                 f"The answer is longer than {MAX_ANSWER} characters."))
    if len(keywords) > MAX_KEYWORDS:
        problems.append(_problem("keywords", f"Từ khóa dài quá {MAX_KEYWORDS} ký tự.",
                                 f"The keywords are longer than {MAX_KEYWORDS} characters."))
    if problems:
        raise InvalidData(INVALID, problems)
    return field, question, answer, keywords


def fill(article: KbArticle, field: str, question: str, answer: str, keywords: str, now: datetime) -> None:
    article.field, article.question, article.answer, article.keywords = field, question, answer, keywords
    article.search_question = normalise(question)
    article.search_text = normalise(f"{question}\n{keywords}\n{answer}")
    article.updated_at = now


def _now(clock: Callable[[], datetime] | None) -> datetime:
    return clock() if clock else datetime.now(UTC)


def get(uow: UnitOfWork, actor: User | None, article_id: int) -> KbArticle:
    """The article; an unpublished one only for editors (NotFound for others, as if it did not exist)."""
    article = uow.session.get(KbArticle, article_id)
    if article is None or (not article.is_published and not is_editor(actor)):
        raise NotFound(NO_ARTICLE)
    return article


def create(uow: UnitOfWork, actor: User | None, data: Mapping[str, object], *, publish: bool = False,
           clock: Callable[[], datetime] | None = None) -> KbArticle:
    user = _check_editor(actor)
    field, question, answer, keywords = _clean(data)
    now = _now(clock)
    article = KbArticle(author_id=user.id, author_name=user.full_name, created_at=now,
                        is_published=publish, published_at=now if publish else None)
    fill(article, field, question, answer, keywords, now)
    uow.add(article)
    uow.commit()
    return article


def edit(uow: UnitOfWork, actor: User | None, article_id: int, data: Mapping[str, object],
         clock: Callable[[], datetime] | None = None) -> KbArticle:
    _check_editor(actor)
    article = get(uow, actor, article_id)
    field, question, answer, keywords = _clean(data)
    fill(article, field, question, answer, keywords, _now(clock))
    uow.commit()
    return article


def set_published(uow: UnitOfWork, actor: User | None, article_id: int, published: bool,
                  clock: Callable[[], datetime] | None = None) -> KbArticle:
    """Publish (shown on the public page from now) or unpublish; doing it twice changes nothing."""
    _check_editor(actor)
    article = get(uow, actor, article_id)
    if article.is_published != published:
        article.is_published = published
        article.published_at = _now(clock) if published else None
        uow.commit()
    return article


def delete(uow: UnitOfWork, actor: User | None, article_id: int) -> None:
    _check_editor(actor)
    uow.session.delete(get(uow, actor, article_id))
    uow.commit()


@dataclass(frozen=True)
class Search:
    """A checked query: its ASCII words and the field (None: every field)."""

    words: tuple[str, ...]
    field: str | None


def parse(query: str | None, field: str | None = None) -> Search:
    """InvalidData (with a Vietnamese message) for a query too long or with too many words, or an unknown field."""
    query = query or ""
    if len(query) > MAX_QUERY:
        raise InvalidData(QUERY_TOO_LONG, [FieldError("q", "q", QUERY_TOO_LONG)])
    words = tuple(dict.fromkeys(ascii_words(query)))
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidData(TOO_MANY_WORDS, [FieldError("q", "q", TOO_MANY_WORDS)])
    if field and field not in FIELDS_BY_CODE:
        raise InvalidData(UNKNOWN_FIELD, [FieldError("field", "field", UNKNOWN_FIELD)])
    return Search(words, field or None)


@dataclass(frozen=True)
class Result:
    articles: list[KbArticle]
    #: How many articles match in all (the list holds at most `limit`).
    total: int
    words: tuple[str, ...]


def _starts_word(column: Any, word: str) -> ColumnElement[bool]:
    # Words are [a-z0-9]+ (ascii_words), so nothing in them needs LIKE escaping.
    return column.like(f"% {word}%")


def search(uow: UnitOfWork, actor: User | None, query: str | None = None, field: str | None = None, *,
           published_only: bool = True, limit: int = 20) -> Result:
    """Articles matching every word of `query` (all articles when empty), ranked; see the module notes.

    `actor=None` is the public page: published articles only whatever `published_only` says; signed-in
    users who are not editors also see published articles only.
    """
    checked = parse(query, field)
    limit = max(1, min(limit, MAX_RESULTS))
    conditions: list[ColumnElement[bool]] = [_starts_word(KbArticle.search_text, w) for w in checked.words]
    if published_only or not is_editor(actor):
        conditions.append(KbArticle.is_published.is_(True))
    if checked.field:
        conditions.append(KbArticle.field == checked.field)
    where = and_(*conditions) if conditions else None
    order: list[Any] = []
    if checked.words:
        hits = [case((_starts_word(KbArticle.search_question, w), 1), else_=0) for w in checked.words]
        in_question: ColumnElement[Any] = hits[0]
        for hit in hits[1:]:
            in_question = in_question + hit
        order.append(in_question.desc())
    order += [KbArticle.updated_at.desc(), KbArticle.id.desc()]
    statement = select(KbArticle).order_by(*order)
    counting = select(func.count()).select_from(KbArticle)
    if where is not None:
        statement, counting = statement.where(where), counting.where(where)
    articles = list(uow.session.scalars(statement.limit(limit)))
    total = uow.session.scalar(counting) or 0
    return Result(articles, total, checked.words)
