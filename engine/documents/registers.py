"""Sổ đăng ký văn bản: gap-free, unique numbers per issuing unit, register and year.

The number is taken inside the caller's transaction by one atomic `UPDATE … SET last_number =
last_number + 1 … RETURNING last_number`: the database serialises concurrent issuers on the
register row (PostgreSQL row lock, SQLite's single writer), and a rollback of the transaction
gives the number back, so no number is skipped and none is used twice. The register row itself
is created race-safely with `INSERT … ON CONFLICT DO NOTHING` (two first issues of a year may
race; the unique constraint keeps one row).

The row stays locked until the caller commits: keep the work between `next_number` and the
commit short (the issuer renders the DOCX there, and makes the PDF only after the commit).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.persistence.models import DocumentRegister

_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _ensure_register(session: Session, issuer: str, register: str, year: int) -> None:
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERTS:
        raise RuntimeError(f"Document registers need SQLite or PostgreSQL, not {dialect}")
    # Both dialects' insert() have on_conflict_do_nothing with the same arguments.
    statement = (_INSERTS[dialect](DocumentRegister)
                 .values(issuer=issuer, register=register, year=year, last_number=0)
                 .on_conflict_do_nothing(index_elements=["issuer", "register", "year"]))
    session.execute(statement)


def next_number(session: Session, issuer: str, register: str, year: int) -> tuple[DocumentRegister, int]:
    """Take the next number of the register (issuer, register, year) in the session's transaction.

    Numbers start at 1 in each year. The caller commits (the number is used) or rolls back (the
    number is given back to the next issue).
    """
    issuer, register = issuer.strip(), register.strip()
    if not issuer or not register:
        raise ValueError("a register needs an issuing unit and a register name")
    if len(issuer) > 64 or len(register) > 32:
        raise ValueError("issuing unit code (64) or register name (32) too long")
    _ensure_register(session, issuer, register, year)
    row = session.execute(
        update(DocumentRegister)
        .where(DocumentRegister.issuer == issuer, DocumentRegister.register == register,
               DocumentRegister.year == year)
        .values(last_number=DocumentRegister.last_number + 1)
        .returning(DocumentRegister.id, DocumentRegister.last_number)
        .execution_options(synchronize_session=False),
    ).one()
    # The session may hold the row from an earlier read: refresh it from this transaction.
    entry = session.get(DocumentRegister, row.id, populate_existing=True)
    assert entry is not None
    return entry, int(row.last_number)
