"""Demo organisation for the embedded default: units and one account per role."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from engine.domain.enums import Role
from engine.persistence.models import User
from engine.persistence.uow import UnitOfWork
from engine.services import identity

UNITS = [
    ("sttt", "Sở Thông tin và Truyền thông"),
    ("so_tc", "Sở Tài chính"),
    ("so_yt", "Sở Y tế"),
]
# (username, full name, unit, roles): one per role and lane of the bundled procedures.
PEOPLE = [
    ("donvi", "Trần Thị Bình", "so_tc", ["chuyen_vien"]),
    ("lanhdao_donvi", "Võ Minh Đức", "so_tc", ["lanh_dao"]),
    ("donvi_yte", "Huỳnh Thị Lan", "so_yt", ["chuyen_vien"]),
    ("chuyenvien", "Lê Văn Cường", "sttt", ["chuyen_vien"]),
    ("vanthu", "Phạm Thị Hạnh", "sttt", ["van_thu"]),
    ("lanhdao", "Nguyễn Quốc Hùng", "sttt", ["lanh_dao"]),
    ("quantri", "Đặng Thanh Tâm", "sttt", ["quan_tri"]),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    unit: str
    roles: str
    password: str | None  # None when the account already existed (password unchanged)


def load(uow: UnitOfWork) -> list[DemoAccount]:
    """Create what is missing; existing accounts keep their passwords."""
    units = {code: identity.ensure_unit(uow, code, name) for code, name in UNITS}
    accounts = []
    for username, full_name, unit, roles in PEOPLE:
        password = None
        if uow.session.scalar(select(User).where(User.username == username)) is None:
            password = secrets.token_urlsafe(9)
            identity.create_user(uow, username, full_name, password, unit, roles)
        accounts.append(DemoAccount(username, full_name, units[unit].name,
                                    ", ".join(Role(r).label_vi for r in roles), password))
    uow.commit()
    return accounts
