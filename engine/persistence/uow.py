"""Unit of work: one transaction per use case; commit maps lost races to Conflict."""
from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.domain.errors import Conflict
from engine.domain.messages import Message

CONFLICT = Message(
    "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại trang và thử lại.",
    "The record was just changed by someone else. Reload the page and try again.",
)


class UnitOfWork:
    """`with uow:` opens a session; `uow.commit()` commits; leaving rolls back the rest."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()
        if isinstance(exc, (StaleDataError, IntegrityError)):
            # An autoflush inside the use case can lose the race before commit() does.
            raise Conflict(CONFLICT) from exc

    def commit(self) -> None:
        try:
            self.session.commit()
        except (StaleDataError, IntegrityError) as err:
            self.session.rollback()
            raise Conflict(CONFLICT) from err

    def rollback(self) -> None:
        self.session.rollback()

    def add(self, obj: Any) -> None:
        self.session.add(obj)
