"""The mail directory: one contract for the local and LDAP adapters, then the LDAP adapter against a real
slapd (entries, hashed passwords, revocation, failures, retries by key) and through the worker."""
from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection
from ldap3.core.exceptions import LDAPSocketReceiveError
from sqlalchemy.orm import Session, sessionmaker

from engine import worker
from engine.adapters import mail_directory
from engine.adapters.base import AdapterError
from engine.adapters.ldap_directory import LdapMailDirectory
from engine.adapters.mail_directory import NOT_FOUND, LocalMailDirectory, MailDirectory
from engine.adapters.registry import build_mail_directory, build_registry
from engine.domain.enums import CallStatus, IncidentStatus, InstanceStatus
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.migrate import upgrade
from engine.persistence.models import User
from engine.persistence.uow import UnitOfWork
from engine.services.context import Services
from engine.settings import Settings
from tests.engine.ldap_server import SERVICE_DN, SERVICE_PASSWORD, LdapServer, free_port, running
from tests.engine.test_worker import ONE_ROW, ScriptedOperation, WorkerCrashed, snapshot, waiting_for_worker

DOMAIN = "dongthap.gov.vn"
TOPIC = "mail_directory.apply"
AN = {"stt": 1, "loai": "ca_nhan", "ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch",
      "chuc_vu": "Chuyên viên", "thao_tac": "cap_moi", "dia_chi_hien_tai": "", "ly_do": ""}
VAN_PHONG = {"stt": 2, "loai": "tap_the", "ho_ten": "Văn phòng Sở Tài chính", "don_vi": "Sở Tài chính",
             "chuc_vu": "", "thao_tac": "cap_moi", "dia_chi_hien_tai": "", "ly_do": ""}


def row(**fields: Any) -> dict[str, Any]:
    return {"row": {**AN, **fields}}


def on(address: str, action: str, **fields: Any) -> dict[str, Any]:
    """A row acting on an existing mailbox."""
    return row(thao_tac=action, dia_chi_hien_tai=address, **fields)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    with running(tmp_path_factory.mktemp("slapd")) as server:
        yield server


def ldap_settings(server: LdapServer, base: Settings | None = None, **changes: Any) -> Settings:
    """Settings selecting the LDAP directory on `server`, in a branch of its own (tests never meet)."""
    chosen = {"mail_directory": "ldap", "mail_domain": DOMAIN, "ldap_url": server.url, "ldap_bind_dn": SERVICE_DN,
              "ldap_bind_password": SERVICE_PASSWORD, "ldap_base_dn": server.new_branch(),
              "ldap_timeout_seconds": 5.0}
    return replace(base or Settings(), **{**chosen, **changes})


@pytest.fixture
def ldap(slapd: LdapServer) -> LdapMailDirectory:
    return LdapMailDirectory(ldap_settings(slapd))


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalMailDirectory]:
    url = f"sqlite:///{tmp_path / 'instance' / 'platform.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield LocalMailDirectory(make_session_factory(engine), DOMAIN)
    engine.dispose()


@pytest.fixture(params=["local", "ldap"])
def directory(request: pytest.FixtureRequest) -> MailDirectory:
    """Each implementation in turn: the contract holds for all of them."""
    found: MailDirectory = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the adapters generate (all through `new_password`), recognisable in any text."""
    issued: list[str] = []
    monkeypatch.setattr(mail_directory, "new_password",
                        lambda: issued.append(f"MatKhauBiMat{len(issued):04d}xyz") or issued[-1])
    return issued


# ---------------------------------------------------------------- the contract, for every implementation


def test_new_mailboxes_get_addresses_from_the_name_numbered_on_collision(directory: MailDirectory) -> None:
    results = [directory.apply(f"1:{n}", data)["row"] for n, data in enumerate([
        row(), row(don_vi="Phòng Ngân sách"), row(ho_ten="Ngô Văn Ân"), row(ho_ten="Đặng Thị Ánh"),
        {"row": VAN_PHONG},
    ])]
    assert [(r["dia_chi"], r["trang_thai"], r["ket_qua"]) for r in results] == [
        ("annv@dongthap.gov.vn", "thanh_cong", "Đã cấp mới"),
        ("annv1@dongthap.gov.vn", "thanh_cong", "Đã cấp mới"),
        ("annv2@dongthap.gov.vn", "thanh_cong", "Đã cấp mới"),
        ("anhdt@dongthap.gov.vn", "thanh_cong", "Đã cấp mới"),
        ("vpstc@dongthap.gov.vn", "thanh_cong", "Đã cấp mới"),
    ]
    assert results[4]["stt"] == 2 and results[4]["thao_tac_ten"] == "Cấp mới"
    assert directory.lookup("ANNV1@dongthap.gov.vn ") == {
        "address": "annv1@dongthap.gov.vn", "display_name": "Nguyễn Văn An", "unit_name": "Phòng Ngân sách",
        "title": "Chuyên viên", "kind": "ca_nhan", "active": True}
    assert directory.lookup("vpstc@dongthap.gov.vn") == {
        "address": "vpstc@dongthap.gov.vn", "display_name": "Văn phòng Sở Tài chính", "unit_name": "Sở Tài chính",
        "title": "", "kind": "tap_the", "active": True}
    assert directory.lookup("annv3@dongthap.gov.vn") is None
    assert not directory.exists("khongco@dongthap.gov.vn")


def test_the_same_key_again_returns_the_first_result_and_creates_nothing(directory: MailDirectory) -> None:
    first = directory.apply("7:khoa-1", row())
    assert directory.apply("7:khoa-1", row()) == first
    assert first["row"]["dia_chi"] == "annv@dongthap.gov.vn"
    assert not directory.exists("annv1@dongthap.gov.vn")
    assert directory.apply("7:khoa-2", row())["row"]["dia_chi"] == "annv1@dongthap.gov.vn"  # another request


def test_rename_changes_the_information_and_keeps_the_address(directory: MailDirectory) -> None:
    directory.apply("1:a", row())
    rename = on(" ANNV@dongthap.gov.vn ", "doi_ten", ho_ten="Nguyễn Văn Anh", don_vi="Phòng Tổng hợp",
                chuc_vu="Phó Trưởng phòng")
    result = directory.apply("2:a", rename)["row"]
    assert (result["trang_thai"], result["ket_qua"], result["dia_chi"]) == (
        "thanh_cong", "Đã cập nhật thông tin", "annv@dongthap.gov.vn")
    assert result["thao_tac_ten"] == "Đổi tên / thay đổi thông tin"
    assert directory.lookup("annv@dongthap.gov.vn") == {
        "address": "annv@dongthap.gov.vn", "display_name": "Nguyễn Văn Anh", "unit_name": "Phòng Tổng hợp",
        "title": "Phó Trưởng phòng", "kind": "ca_nhan", "active": True}
    assert directory.apply("2:a", rename)["row"] == result


def test_password_reset_and_revocation_keep_the_mailbox(directory: MailDirectory, passwords: list[str]) -> None:
    created = directory.apply("1:a", row())
    reset = directory.apply("2:a", on("annv@dongthap.gov.vn", "cap_lai_mat_khau"))["row"]
    assert (reset["trang_thai"], reset["ket_qua"]) == ("thanh_cong", "Đã cấp lại mật khẩu (gửi riêng cho người dùng)")
    revoked = directory.apply("3:a", on("annv@dongthap.gov.vn", "thu_hoi", ly_do="Nghỉ hưu"))["row"]
    assert (revoked["trang_thai"], revoked["ket_qua"]) == ("thanh_cong", "Đã thu hồi (khóa tài khoản, giữ dữ liệu)")
    found = directory.lookup("annv@dongthap.gov.vn")
    assert found is not None and found["active"] is False and directory.exists("annv@dongthap.gov.vn")
    assert len(passwords) == 2  # one at creation, one reset: neither is in any result
    assert not any(p in json.dumps([created, reset, revoked], ensure_ascii=False) for p in passwords)


def test_rows_that_cannot_be_done_are_refused_with_a_reason(directory: MailDirectory) -> None:
    directory.apply("1:a", row())
    for n, action in enumerate(["doi_ten", "cap_lai_mat_khau", "thu_hoi"]):
        refused = directory.apply(f"2:{n}", on("khongco@dongthap.gov.vn", action))["row"]
        assert (refused["trang_thai"], refused["ket_qua"], refused["dia_chi"]) == (
            "that_bai", NOT_FOUND, "khongco@dongthap.gov.vn")
    assert directory.apply("3:a", on("", "thu_hoi"))["row"]["ket_qua"] == NOT_FOUND
    wrong = directory.apply("4:a", on("annv@dongthap.gov.vn", "xoa_bo"))["row"]
    assert (wrong["trang_thai"], wrong["ket_qua"]) == ("that_bai", "Không thực hiện: thao tác không hợp lệ (xoa_bo)")
    assert directory.lookup("annv@dongthap.gov.vn") == {
        "address": "annv@dongthap.gov.vn", "display_name": "Nguyễn Văn An", "unit_name": "Phòng Kế hoạch",
        "title": "Chuyên viên", "kind": "ca_nhan", "active": True}


# ---------------------------------------------------------------- choosing the implementation


def test_mail_directory_setting_picks_the_implementation() -> None:
    unbound: sessionmaker[Session] = sessionmaker()
    assert isinstance(build_mail_directory(Settings.from_env({}), unbound), LocalMailDirectory)
    settings = Settings.from_env({
        "MAIL_DIRECTORY": "ldap", "LDAP_URL": "ldaps://127.0.0.1:636", "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": "bi-mat-dich-vu", "LDAP_BASE_DN": "ou=thu,dc=dongthap,dc=gov,dc=vn",
        "LDAP_TIMEOUT_SECONDS": "3", "LDAP_HASH_SCHEME": "ssha"})
    chosen = build_mail_directory(settings, unbound)
    assert isinstance(chosen, LdapMailDirectory)
    assert (chosen.url, chosen.base_dn, chosen.password_scheme) == (
        "ldaps://127.0.0.1:636", "ou=thu,dc=dongthap,dc=gov,dc=vn", "SSHA")
    assert "bi-mat-dich-vu" not in repr(settings)
    with pytest.raises(ValueError, match="MAIL_DIRECTORY='zimbra'"):
        build_mail_directory(replace(settings, mail_directory="zimbra"), unbound)
    with pytest.raises(ValueError, match="LDAP_HASH_SCHEME='MD5'"):
        LdapMailDirectory(replace(settings, ldap_hash_scheme="MD5"))


# ---------------------------------------------------------------- LDAP entries and passwords


def test_entries_carry_the_person_or_unit_under_its_own_branch(ldap: LdapMailDirectory, slapd: LdapServer,
                                                               passwords: list[str]) -> None:
    ldap.apply("5:an", row())
    ldap.apply("5:vp", {"row": VAN_PHONG})
    base = ldap.base_dn
    found = slapd.entries(base)
    assert set(found) == {f"uid=annv,ou=people,{base}", f"uid=vpstc,ou=collective,{base}"}
    person = found[f"uid=annv,ou=people,{base}"]
    assert sorted(person["objectClass"]) == ["inetOrgPerson", "mailAccount", "top"]
    assert {k: v for k, v in person.items() if k not in ("objectClass", "userPassword")} == {
        "uid": ["annv"], "cn": ["Nguyễn Văn An"], "displayName": ["Nguyễn Văn An"], "sn": ["Nguyễn Văn"],
        "givenName": ["An"], "mail": ["annv@dongthap.gov.vn"], "ou": ["Phòng Kế hoạch"], "title": ["Chuyên viên"],
        "mailAccountStatus": ["active"], "mailOperationKey": ["5:an"]}
    (stored,) = person["userPassword"]
    assert stored.startswith("{ARGON2}$argon2id$") and passwords[0] not in stored
    unit = found[f"uid=vpstc,ou=collective,{base}"]
    assert (unit["cn"], unit["sn"], unit["ou"], "givenName" in unit, "title" in unit) == (
        ["Văn phòng Sở Tài chính"], ["Văn phòng Sở Tài chính"], ["Sở Tài chính"], False, False)


@pytest.mark.parametrize("scheme", ["ARGON2", "SSHA"])
def test_passwords_reach_the_directory_hashed_and_the_person_can_log_in(slapd: LdapServer, passwords: list[str],
                                                                        scheme: str) -> None:
    ldap = LdapMailDirectory(ldap_settings(slapd, ldap_hash_scheme=scheme))
    dn = f"uid=annv,ou=people,{ldap.base_dn}"
    ldap.apply("1:a", row())
    assert slapd.can_bind(dn, passwords[0])
    ldap.apply("2:a", on("annv@dongthap.gov.vn", "cap_lai_mat_khau"))
    assert slapd.can_bind(dn, passwords[1]) and not slapd.can_bind(dn, passwords[0])
    (stored,) = slapd.entries(ldap.base_dn)[dn]["userPassword"]
    assert stored.startswith(f"{{{scheme}}}")
    written = slapd.written()  # every change the directory received
    assert ("dn", dn) in written and ("userPassword", stored) in written
    assert not [value for _name, value in written if any(p in value for p in passwords)]


def test_a_revoked_mailbox_keeps_its_entry_but_can_no_longer_log_in(ldap: LdapMailDirectory, slapd: LdapServer,
                                                                    passwords: list[str]) -> None:
    dn = f"uid=annv,ou=people,{ldap.base_dn}"
    ldap.apply("1:a", row())
    ldap.apply("2:a", on("annv@dongthap.gov.vn", "thu_hoi"))
    entry = slapd.entries(ldap.base_dn)[dn]
    assert (entry["mail"], entry["mailAccountStatus"], entry["mailOperationKey"]) == (
        ["annv@dongthap.gov.vn"], ["disabled"], ["1:a", "2:a"])
    assert not slapd.can_bind(dn, passwords[0])


# ---------------------------------------------------------------- failures and retries by key


def test_an_unreachable_or_silent_directory_is_an_adapter_error(slapd: LdapServer) -> None:
    closed = LdapMailDirectory(replace(ldap_settings(slapd), ldap_url=f"ldap://127.0.0.1:{free_port()}"))
    with pytest.raises(AdapterError, match=r"Không kết nối được máy chủ danh bạ thư \(LDAP\) ldap://127\.0\.0\.1"):
        closed.apply("1:a", row())
    with pytest.raises(AdapterError):
        closed.exists("annv@dongthap.gov.vn")

    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        mute = LdapMailDirectory(replace(ldap_settings(slapd), ldap_timeout_seconds=1,
                                         ldap_url=f"ldap://127.0.0.1:{silent.getsockname()[1]}"))
        with pytest.raises(AdapterError, match="Không kết nối được"):
            mute.apply("1:a", row())


def test_wrong_service_credentials_are_an_adapter_error_naming_the_settings(slapd: LdapServer) -> None:
    wrong = LdapMailDirectory(ldap_settings(slapd, ldap_bind_password="sai-mat-khau"))
    with pytest.raises(AdapterError, match="LDAP_BIND_DN và LDAP_BIND_PASSWORD") as caught:
        wrong.apply("1:a", row())
    assert "sai-mat-khau" not in str(caught.value)


@pytest.fixture
def lose_next_response(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """`lose_next_response("add")`: the next add (or modify) of a mailbox entry reaches the directory,
    its answer is lost on the way back."""

    def arm(operation: str) -> None:
        real = getattr(Connection, operation)

        def written_then_lost(self: Connection, dn: str, *args: Any, **kwargs: Any) -> Any:
            answer = real(self, dn, *args, **kwargs)
            if not dn.startswith("uid="):  # e.g. the branch ou=people made on first use
                return answer
            monkeypatch.setattr(Connection, operation, real)
            raise LDAPSocketReceiveError("connection lost while reading the response")

        monkeypatch.setattr(Connection, operation, written_then_lost)

    return arm


def test_a_create_retried_after_its_answer_was_lost_creates_one_entry(
        ldap: LdapMailDirectory, slapd: LdapServer, lose_next_response: Callable[[str], None]) -> None:
    lose_next_response("add")
    with pytest.raises(AdapterError):
        ldap.apply("9:tao", row())
    assert list(slapd.entries(ldap.base_dn)) == [f"uid=annv,ou=people,{ldap.base_dn}"]  # written before the loss
    again = LdapMailDirectory(replace(ldap_settings(slapd), ldap_base_dn=ldap.base_dn))  # e.g. another worker
    result = again.apply("9:tao", row())["row"]
    assert (result["dia_chi"], result["ket_qua"]) == ("annv@dongthap.gov.vn", "Đã cấp mới")
    assert list(slapd.entries(ldap.base_dn)) == [f"uid=annv,ou=people,{ldap.base_dn}"]


def test_a_reset_retried_after_its_answer_was_lost_does_not_reset_again(
        ldap: LdapMailDirectory, slapd: LdapServer, passwords: list[str],
        lose_next_response: Callable[[str], None]) -> None:
    ldap.apply("1:a", row())
    lose_next_response("modify")
    with pytest.raises(AdapterError):
        ldap.apply("2:a", on("annv@dongthap.gov.vn", "cap_lai_mat_khau"))
    assert ldap.apply("2:a", on("annv@dongthap.gov.vn", "cap_lai_mat_khau"))["row"]["trang_thai"] == "thanh_cong"
    assert len(passwords) == 2  # the retry made no third password: the one sent to the person still works
    assert slapd.can_bind(f"uid=annv,ou=people,{ldap.base_dn}", passwords[1])


# ---------------------------------------------------------------- through the worker

Uow = Callable[[], UnitOfWork]
REQUEST = {**ONE_ROW, "tap_the": [{"ten_co_quan": "Văn phòng Sở Tài chính", "don_vi": "Sở Tài chính",
                                   "thao_tac": "cap_moi"}]}


def ldap_services(services: Services, settings: Settings, session_factory: sessionmaker[Session],
                  server: LdapServer) -> Services:
    """The test's services with MAIL_DIRECTORY=ldap on `server`, built by the real registry."""
    chosen = ldap_settings(server, settings)
    return Services(chosen, build_registry(chosen, session_factory, services.clock), clock=services.clock)


def test_the_worker_provisions_the_rows_in_ldap(uow: Uow, services: Services, settings: Settings,
                                                session_factory: sessionmaker[Session], people: dict[str, User],
                                                published: Any, slapd: LdapServer) -> None:
    services = ldap_services(services, settings, session_factory, slapd)
    instance_id = waiting_for_worker(uow, services, people, REQUEST)
    assert worker.run_once(uow, services, owner="w1") == 2
    base = services.settings.ldap_base_dn
    assert sorted(slapd.entries(base)) == [f"uid=annv,ou=people,{base}", f"uid=vpstc,ou=collective,{base}"]
    done = snapshot(uow, instance_id)
    assert done["calls"] == [(CallStatus.SUCCEEDED, 1, None)] * 2
    assert (done["status"], done["ready"]) == (InstanceStatus.RUNNING, ["Task_PhucDap"])


def test_ldap_down_is_retried_with_backoff_then_one_entry_is_made(
        uow: Uow, services: Services, settings: Settings, session_factory: sessionmaker[Session],
        people: dict[str, User], published: Any, clock: Any, tmp_path: Path) -> None:
    with running(tmp_path / "slapd") as own:
        services = ldap_services(services, settings, session_factory, own)
        base = services.settings.ldap_base_dn
        instance_id = waiting_for_worker(uow, services, people)
        own.stop()
        for delay in (10, 20):
            assert worker.run_once(uow, services, owner="w1") == 0
            clock.advance(seconds=delay)
        (call,) = snapshot(uow, instance_id)["calls"]
        assert call[:2] == (CallStatus.PENDING, 2) and "Không kết nối được máy chủ danh bạ thư (LDAP)" in call[2]
        own.start()
        assert worker.run_once(uow, services, owner="w1") == 1  # the third and last allowed attempt
        assert list(own.entries(base)) == [f"uid=annv,ou=people,{base}"]
        after = snapshot(uow, instance_id)
        assert (after["calls"], after["incidents"], after["ready"]) == (
            [(CallStatus.SUCCEEDED, 3, None)], [], ["Task_PhucDap"])


def test_ldap_down_for_every_attempt_raises_an_incident_and_creates_nothing(
        uow: Uow, services: Services, settings: Settings, session_factory: sessionmaker[Session],
        people: dict[str, User], published: Any, clock: Any, tmp_path: Path) -> None:
    with running(tmp_path / "slapd") as own:
        services = ldap_services(services, settings, session_factory, own)
        instance_id = waiting_for_worker(uow, services, people)
        own.stop()
        for delay in (10, 20, 40):
            worker.run_once(uow, services, owner="w1")
            clock.advance(seconds=delay)
        broken = snapshot(uow, instance_id)
        assert broken["status"] == InstanceStatus.ERROR
        ((element_id, topic, message, status),) = broken["incidents"]
        assert (element_id, topic, status) == ("Task_ThucHienTaiKhoan", TOPIC, IncidentStatus.OPEN)
        assert "máy chủ danh bạ thư (LDAP)" in message and "sau 3 lần thử" in message
        own.start()
        assert own.entries(services.settings.ldap_base_dn) == {}


def test_a_worker_crash_after_the_ldap_write_does_not_create_a_second_entry(
        uow: Uow, services: Services, settings: Settings, session_factory: sessionmaker[Session],
        people: dict[str, User], published: Any, clock: Any, slapd: LdapServer) -> None:
    services = ldap_services(services, settings, session_factory, slapd)
    crashing = ScriptedOperation(LdapMailDirectory(services.settings).apply, crash_after_first=True)
    services.adapters.operations[TOPIC] = crashing
    instance_id = waiting_for_worker(uow, services, people)
    with pytest.raises(WorkerCrashed):
        worker.run_once(uow, services, owner="w1")
    clock.advance(seconds=settings.lease_seconds + 1)
    assert worker.run_once(uow, services, owner="w2") == 1
    base = services.settings.ldap_base_dn
    assert list(slapd.entries(base)) == [f"uid=annv,ou=people,{base}"]
    assert crashing.keys[0] == crashing.keys[1]
    assert snapshot(uow, instance_id)["calls"] == [(CallStatus.SUCCEEDED, 2, None)]
