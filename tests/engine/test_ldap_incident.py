"""LDAP down while email_account provisions (issue 5): the worker retries, raises an incident, the
directory comes back, an administrator retries, and the directory holds exactly one entry per person."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus
from engine.persistence.models import User
from engine.persistence.uow import UnitOfWork
from engine.services import incidents, instances
from engine.services.context import Services
from engine.settings import Settings
from tests.engine.ldap_server import LdapServer, running
from tests.engine.test_incidents import open_incident
from tests.engine.test_ldap_directory import ldap_services, lose_next_response  # noqa: F401 - a fixture
from tests.engine.test_worker import ready, snapshot, waiting_for_worker

pytestmark = pytest.mark.slow

Uow = Callable[[], UnitOfWork]
TOPIC = "mail_directory.apply"


def attempts_while_down(uow: Uow, services: Services, clock: Any, instance_id: int) -> None:
    """The worker's three attempts (WORKER_MAX_ATTEMPTS=3 in the tests), each after its backoff."""
    for attempt, delay in enumerate((10, 20, 0), start=1):
        assert worker.run_once(uow, services, owner="w1") == 0
        assert snapshot(uow, instance_id)["calls"][0][:2] == (
            CallStatus.FAILED if attempt == 3 else CallStatus.PENDING, attempt)
        clock.advance(seconds=delay)


def admin_retries(uow: Uow, services: Services, admin: User, instance_id: int) -> None:
    with uow() as u:
        incidents.retry(u, services, admin, open_incident(uow, instance_id))


def search(server: LdapServer, base: str, name: str) -> list[str]:
    """DNs of the mail accounts carrying this display name, as the directory's administrator finds them."""
    return sorted(dn for dn, attributes in server.entries(base).items() if attributes.get("displayName") == [name])


def test_ldap_down_raises_an_incident_and_the_admin_retry_creates_exactly_one_entry(
        uow: Uow, services: Services, settings: Settings, session_factory: sessionmaker[Session],
        people: dict[str, User], published: Any, clock: Any, tmp_path: Path) -> None:
    with running(tmp_path / "slapd") as directory:
        services = ldap_services(services, settings, session_factory, directory)
        base = services.settings.ldap_base_dn
        instance_id = waiting_for_worker(uow, services, people)  # forms done up to the provisioning step
        directory.stop()

        attempts_while_down(uow, services, clock, instance_id)
        broken = snapshot(uow, instance_id)
        assert (broken["status"], broken["ready"]) == (InstanceStatus.ERROR, [])
        ((element_id, topic, message, status),) = broken["incidents"]
        assert (element_id, topic, status) == ("Task_ThucHienTaiKhoan", TOPIC, IncidentStatus.OPEN)
        assert message.startswith("Không kết nối được máy chủ danh bạ thư (LDAP)")
        assert message.endswith("(sau 3 lần thử)")

        directory.start()
        assert worker.run_once(uow, services, owner="w1") == 0  # the worker leaves it for the administrator
        assert directory.entries(base) == {}
        admin_retries(uow, services, people["qt"], instance_id)
        assert worker.run_once(uow, services, owner="w1") == 1

        done = snapshot(uow, instance_id)
        assert (done["status"], done["ready"]) == (InstanceStatus.RUNNING, ["Task_PhucDap"])
        assert done["calls"] == [(CallStatus.SUCCEEDED, 1, None)]
        assert [i[3] for i in done["incidents"]] == [IncidentStatus.RESOLVED]
        assert search(directory, base, "Nguyễn Văn An") == [f"uid=annv,ou=people,{base}"]


def test_an_entry_written_before_the_incident_is_not_created_again_by_the_retry(
        uow: Uow, services: Services, settings: Settings, session_factory: sessionmaker[Session],
        people: dict[str, User], published: Any, clock: Any, tmp_path: Path,
        lose_next_response: Callable[[str], None]) -> None:  # noqa: F811 - the imported fixture
    with running(tmp_path / "slapd") as directory:
        services = ldap_services(services, settings, session_factory, directory)
        base = services.settings.ldap_base_dn
        instance_id = waiting_for_worker(uow, services, people)
        directory.stop()
        for delay in (10, 20):  # two attempts while the directory is down
            assert worker.run_once(uow, services, owner="w1") == 0
            clock.advance(seconds=delay)
        directory.start()
        lose_next_response("add")  # the last attempt writes the entry; its answer never comes back
        assert worker.run_once(uow, services, owner="w1") == 0
        assert snapshot(uow, instance_id)["status"] == InstanceStatus.ERROR
        assert search(directory, base, "Nguyễn Văn An") == [f"uid=annv,ou=people,{base}"]

        admin_retries(uow, services, people["qt"], instance_id)
        assert worker.run_once(uow, services, owner="w1") == 1
        done = snapshot(uow, instance_id)
        assert (done["ready"], done["calls"]) == (["Task_PhucDap"], [(CallStatus.SUCCEEDED, 1, None)])
        # the retry found its own entry by the operation key: no annv1, and the reply reports that address
        assert search(directory, base, "Nguyễn Văn An") == [f"uid=annv,ou=people,{base}"]
        assert len(directory.entries(base)) == 1
        with uow() as u:
            (task,) = ready(u, instance_id)
            (outcome,) = instances.task_data(u, services, task)["rows"]
        assert outcome["dia_chi"] == "annv@dongthap.gov.vn" and outcome["ket_qua"].startswith("Đã cấp mới")
