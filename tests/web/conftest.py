"""Web fixtures: an app on a migrated database with demo people and the bundled procedures."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.migrate import upgrade
from engine.persistence.uow import UnitOfWork
from engine.services import identity, publishing
from engine.settings import ROOT, Settings
from engine.worker import run_once
from tests.conftest import Databases
from webapp import create_app, platform
from webapp.extensions import db
from webapp.platform import services, uow

PASSWORD = "matkhau123"
PEOPLE = [
    ("cv_stc", "Trần Thị Bình", "so_tc", ["chuyen_vien"]),
    ("cv_syt", "Huỳnh Thị Lan", "so_yt", ["chuyen_vien"]),
    ("cv_sttt", "Lê Văn Cường", "sttt", ["chuyen_vien"]),
    ("qt", "Đặng Thanh Tâm", "sttt", ["quan_tri"]),
]
UNITS = [("sttt", "Sở Thông tin và Truyền thông"), ("so_tc", "Sở Tài chính"), ("so_yt", "Sở Y tế")]

REQUEST_DATA: dict[str, Any] = {
    "kenh_gui": "idesk", "so_cong_van": "45/STC-VP", "noi_dung": "Đề nghị cấp mới thư điện tử công vụ",
    "ca_nhan": [
        {"ho_ten": "Nguyễn Văn An", "don_vi": "Phòng Kế hoạch", "chuc_vu": "Chuyên viên", "thao_tac": "cap_moi"},
        {"ho_ten": "Phạm Thị Hoa", "don_vi": "Văn phòng Sở", "chuc_vu": "Phó Chánh Văn phòng", "thao_tac": "cap_moi"},
    ],
    "tap_the": [], "nguoi_ky": "Nguyễn Văn Giám", "chuc_vu_nguoi_ky": "Giám đốc",
}
PROCESS_DATA: dict[str, Any] = {"y_kien_xu_ly": "Đủ điều kiện", "xac_nhan": True}
REPLY_DATA: dict[str, Any] = {
    "noi_dung_phuc_dap": "Sở TT&TT phúc đáp kết quả cấp thư điện tử công vụ.",
    "quyen_han_ky": "KT. GIÁM ĐỐC", "chuc_vu_ky": "PHÓ GIÁM ĐỐC", "nguoi_ky": "Nguyễn Quốc Hùng",
    "noi_nhan": "Như trên;",
}


def add_people(app: Flask, people: Mapping[str, tuple[str, str, list[str]]], units: Mapping[str, str]) -> None:
    """Adds `units` (code: name) and `people` (username: (full name, unit, roles)), password PASSWORD."""
    with app.app_context(), uow() as work:
        for code, name in units.items():
            identity.ensure_unit(work, code, name)
        for username, (full_name, unit, roles) in people.items():
            identity.create_user(work, username, full_name, PASSWORD, unit, roles)
        work.commit()


def seed(app: Flask) -> None:
    settings = app.extensions["platform"].settings
    with app.app_context(), uow() as work:
        for code, name in UNITS:
            identity.ensure_unit(work, code, name)
        for username, full_name, unit, roles in PEOPLE:
            identity.create_user(work, username, full_name, PASSWORD, unit, roles)
        work.commit()
        for files in publishing.bundled_procedures(settings.processes_dir):
            platform.publish(work, files, None)


def settings_counting_meetings(db_url: str, tmp_path: Path, process_id: str) -> Settings:
    """Settings whose reports folder holds the shipped Phụ lục V definition counting `process_id`'s meetings."""
    folder = tmp_path / "reports"
    folder.mkdir()
    definition = json.loads((ROOT / "processes" / "reports" / "phu_luc_v.json").read_text(encoding="utf-8"))
    definition["procedures"] = [process_id]
    (folder / "phu_luc_v.json").write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    return Settings(database_url=db_url, reports_dir=folder)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


def make_app(settings: Settings, instance_path: Path) -> Flask:
    application = create_app({"TESTING": True, "SECRET_KEY": "test", "PLATFORM_SETTINGS": settings})
    application.instance_path = str(instance_path)
    return application


def close(application: Flask) -> None:
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(settings: Settings, tmp_path: Path, databases: Databases) -> Iterator[Flask]:
    """The app on a migrated database seeded with UNITS, PEOPLE and every bundled procedure (`seed`).

    The database is a copy of this worker's seeded template for the settings' processes, forms and
    templates folders and upload limit (what seeding reads; tests/conftest.py `Databases`): the
    first test with those migrates a template with `upgrade` and seeds it through an app of its own
    on default Settings with those values, the others copy it. The copy holds the same rows and ids
    as seeding in the test would; only the seeding's timestamps (published_at, created_at) are
    those of the template's, earlier in the session.
    """
    folders = {"processes_dir": settings.processes_dir, "forms_dir": settings.forms_dir,
               "templates_dir": settings.templates_dir, "max_upload_bytes": settings.max_upload_bytes}

    def fill(url: str) -> None:
        upgrade(url)
        template_app = make_app(Settings(database_url=url, **folders), databases.folder / "instance")
        try:
            seed(template_app)
        finally:
            close(template_app)

    key = ("seeded", *folders.values())
    databases.copy(databases.template(settings.database_url, key, fill), settings.database_url)
    application = make_app(settings, tmp_path / "instance")
    yield application
    close(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def run_worker(app: Flask) -> Iterator[Any]:
    """Runs the worker once, as the separate process would, on its own engine."""
    settings = app.extensions["platform"].settings
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)

    def run() -> int:
        with app.app_context():
            return run_once(lambda: UnitOfWork(sessions), services())

    yield run
    engine.dispose()


class Browser:
    """Login helper over the test client, with the CSRF token taken from pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        html = self.client.get(path).get_data(as_text=True)
        marker = 'name="csrf_token" value="'
        start = html.index(marker) + len(marker)
        return html[start:html.index('"', start)]

    def login(self, username: str, password: str = PASSWORD) -> Any:
        token = self.csrf()
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": token})

    def post(self, path: str, data: dict[str, Any] | None = None, page: str | None = None) -> Any:
        form = dict(data or {})
        form["csrf_token"] = self.csrf(page or path)
        return self.client.post(path, data=form)


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)
