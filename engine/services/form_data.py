"""Choices a task's form draws from the organisation: a choice field whose `options` property reads
`users:UNIT:ROLE` (and whose options come from the data, `valuesKey`) offers the active users holding
ROLE in UNIT, by full name, with the username as the value (what `camunda:assignee="${…}"` reads).

A choice field whose `options` property reads `units` offers every unit of the organisation, by name,
with the unit code as the value (e.g. the units invited to a meeting, `don_vi_moi`).

The options are added to the data the form opens with — so the browser, the API and the submission
check all see the same list, and a value not in it is refused — and are never stored in the instance.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.forms import rules
from engine.persistence.models import Unit, User, UserRole
from engine.persistence.uow import UnitOfWork


def people(uow: UnitOfWork, unit_code: str, role: str) -> list[User]:
    """Active users holding `role` in the unit `unit_code`, by name (none for an unknown unit)."""
    return list(uow.session.scalars(
        select(User).join(Unit, User.unit_id == Unit.id).join(UserRole, UserRole.user_id == User.id)
        .where(Unit.code == unit_code, UserRole.role == role, User.is_active.is_(True))
        .order_by(User.full_name, User.username)))


def units(uow: UnitOfWork) -> list[Unit]:
    """Every unit of the organisation, by name."""
    return list(uow.session.scalars(select(Unit).order_by(Unit.name, Unit.code)))


def organisation_options(uow: UnitOfWork, schema: dict[str, Any] | None) -> dict[str, list[dict[str, str]]]:
    """`valuesKey` → options of every choice field of the form that lists people or units."""
    found = {
        option.values_key: [{"label": user.full_name, "value": user.username}
                            for user in people(uow, option.unit, option.role)]
        for option in rules.users_options(schema)
    }
    keys = rules.units_option_keys(schema)
    if keys:
        unit_options = [{"label": unit.name, "value": unit.code} for unit in units(uow)]
        found.update(dict.fromkeys(keys, unit_options))
    return found
