"""What the form rules read about a submission besides its data: when (the services' clock on the
working calendar) and by whom (the person's unit), for task completions and Excel imports alike."""
from __future__ import annotations

from sqlalchemy import select

from engine.forms.context_rules import Submission
from engine.persistence.models import Unit, User
from engine.persistence.uow import UnitOfWork
from engine.services.context import Services


def submission(uow: UnitOfWork, services: Services, actor: User) -> Submission:
    """Now, on the live working calendar (administrators' overrides included), by `actor`."""
    unit = uow.session.get(Unit, actor.unit_id)
    names: dict[str, str] = dict(uow.session.execute(select(Unit.code, Unit.name)).all())
    return Submission(services.now(), services.calendar(), unit.code if unit is not None else None, names)
