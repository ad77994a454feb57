"""DTI at province scale: a round of 60 units × 300 scored indicators on SQLite.

Run with `make bench` (or `python -m bench.dti`). Builds a fresh SQLite database, imports a 340-row index
set (10 groups, 30 sub-groups, 300 scored indicators) through the Excel reader, opens a round for 60
units (the dti_assessment instance with 60 parallel branches), fills every unit's 300 scores, then times:

- saving one score change (issue 7's target: under 100 ms of server time), once through the use case
  (engine.services.dti_scores.save_self_score: access check, limits, history line, commit) and once
  through the JSON API in process (PUT …/scores/{code}: token check, request parsing, the use case, JSON);
- ranking the whole round (target: under 2 s), engine.services.dti_ranking.compute;
- reading one unit's sheet (300 lines with parents' sums);
- rendering the whole scoring sheet page (GET /dti/rounds/{id}/units/{unit}: 330 lines with inputs, signed in
  by session) through the Flask test client, in process;
- the baseline measured in the same run on the same database: a bare SELECT of one score row, and a
  bare UPDATE of one score row with its commit.

Prints a JSON summary: medians in milliseconds, the targets, and the ratios to the baseline (how many
bare single-row UPDATE commits one saved change costs).
"""
from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select, text

from engine.adapters.registry import KNOWN_TOPICS, build_registry
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.migrate import upgrade
from engine.persistence.models import DtiRoundUnit, DtiScore, Unit, User, UserRole
from engine.persistence.uow import UnitOfWork
from engine.services import dti_access, dti_index, dti_ranking, dti_rounds, dti_scores, dti_sheet, identity, publishing
from engine.services.context import Services
from engine.settings import ROOT, Settings
from webapp import create_app
from webapp.extensions import db

UNITS = 60
GROUPS, SUBGROUPS, LEAVES = 10, 3, 10  # 10 × 3 × 10 = 300 scored indicators
REPEAT = 50
TARGET_SAVE_MS, TARGET_RANK_MS = 100.0, 2000.0


def _timed(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    """Median milliseconds of `repeat` runs (one warm-up run first)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _index_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã chỉ số", "Mã chỉ số cha", "Nhóm chỉ số", "Tên chỉ số", "Điểm tối đa", "Cách tính điểm",
                  "Áp dụng cho", "Tài liệu kiểm chứng"])
    for g in range(1, GROUPS + 1):
        sheet.append([str(g), None, f"Nhóm {g}", f"Nhóm chỉ số {g}", SUBGROUPS * LEAVES * 2, None, "so_nganh; huyen",
                      None])
        for s in range(1, SUBGROUPS + 1):
            sheet.append([f"{g}.{s}", str(g), None, f"Chỉ số thành phần {g}.{s}", LEAVES * 2, None, None, None])
            for leaf in range(1, LEAVES + 1):
                sheet.append([f"{g}.{s}.{leaf}", f"{g}.{s}", None, f"Chỉ số {g}.{s}.{leaf}", 2,
                              "Mức" if leaf % 2 else "Tỷ lệ", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _people(uow: Callable[[], UnitOfWork]) -> None:
    """Units and people without password hashing (the bench signs in with tokens)."""
    with uow() as u:
        identity.ensure_unit(u, "sttt", "Sở Thông tin và Truyền thông")
        identity.ensure_unit(u, "ubnd_tinh", "UBND tỉnh")
        people = [("cv_sttt", "sttt", "chuyen_vien")]
        for i in range(UNITS):
            code = f"dv{i:02d}"
            identity.ensure_unit(u, code, f"Đơn vị {i:02d}")
            people.append((f"cv_{code}", code, "chuyen_vien"))
        u.session.flush()
        units = {unit.code: unit.id for unit in u.session.scalars(select(Unit))}
        for username, code, role in people:
            # "!" matches no password: these people sign in with tokens only.
            user = User(username=username, full_name=username, password_hash="!", unit_id=units[code])  # noqa: S106
            user.roles = [UserRole(role=role)]
            u.add(user)
        u.commit()


def _user(uow: Callable[[], UnitOfWork], username: str) -> User:
    with uow() as u:
        user = u.session.scalar(select(User).where(User.username == username))
        assert user is not None
        _ = (user.unit.code, user.role_codes)
        u.session.expunge_all()
        return user


def _fill(uow: Callable[[], UnitOfWork], round_id: int, set_id: int) -> None:
    """Every unit's 300 scores, written in bulk (the set-up, not what is measured)."""
    with uow() as u:
        leaves = [i for i in dti_index.indicators_of(u, set_id) if i.is_leaf]
        participants = u.session.scalars(select(DtiRoundUnit).where(DtiRoundUnit.round_id == round_id)).all()
        now = datetime.now(UTC)
        rows = [{"round_unit_id": p.id, "indicator_id": leaf.id, "self_score": (leaf.max_points if (n + k) % 3 else
                                                                                leaf.max_points // 2),
                 "self_note": "", "expert_reason": "", "self_at": now}
                for n, p in enumerate(participants) for k, leaf in enumerate(leaves)]
        u.session.execute(DtiScore.__table__.insert(), rows)
        u.commit()


def setup(workdir: Path) -> dict[str, Any]:
    url = f"sqlite:///{workdir / 'dti-bench.db'}"
    upgrade(url)
    settings = Settings(database_url=url, soffice_path="off")
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions)

    services = Services(settings, build_registry(settings, sessions))
    _people(uow)
    expert = _user(uow, "cv_sttt")
    (files,) = (f for f in publishing.bundled_procedures(ROOT / "processes") if "dti_assessment.bpmn" in f)
    with uow() as u:
        publishing.publish(u, files, None, forms_dir=ROOT / "forms", topics=KNOWN_TOPICS,
                           max_bytes=settings.max_upload_bytes, templates_dir=settings.templates_dir)
    started = time.perf_counter()
    with uow() as u:
        set_id = dti_index.import_index_set(u, services, expert, content=_index_workbook(), file_name="bench.xlsx",
                                            name="Bộ chỉ số đo hiệu năng", year=2026).summary.id
    import_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    with uow() as u:
        round_id = dti_rounds.open_round(
            u, services, expert, index_set_id=set_id, deadline=datetime.now(UTC) + timedelta(days=30),
            participants=[{"unit": f"dv{i:02d}", "group": "so_nganh"} for i in range(UNITS)]).id
    open_ms = (time.perf_counter() - started) * 1000
    _fill(uow, round_id, set_id)
    return {"url": url, "engine": engine, "uow": uow, "services": services, "settings": settings,
            "round_id": round_id, "set_id": set_id, "import_ms": import_ms, "open_ms": open_ms,
            "officer": _user(uow, "cv_dv07")}


def measure(ctx: dict[str, Any]) -> dict[str, Any]:
    uow, services, round_id, officer = ctx["uow"], ctx["services"], ctx["round_id"], ctx["officer"]
    values = iter([1, 2] * (REPEAT + 1))

    def save() -> None:
        with uow() as u:
            dti_scores.save_self_score(u, services, officer, round_id, "dv07", "4.2.5", score=next(values),
                                      note="Đo hiệu năng")

    def rank() -> None:
        with uow() as u:
            ranking = dti_ranking.compute(u, dti_access.get_round(u, round_id))
            assert len(ranking.groups[0].units) == UNITS

    def read_sheet() -> None:
        with uow() as u:
            assert dti_sheet.sheet(u, services, officer, round_id, "dv07").leaves == GROUPS * SUBGROUPS * LEAVES

    with uow() as u:
        score_id = u.session.scalar(select(DtiScore.id).order_by(DtiScore.id.desc()).limit(1))
    flips = iter([100, 200] * (REPEAT + 1))

    def bare_select() -> None:
        with ctx["engine"].connect() as conn:
            conn.execute(text("SELECT self_score FROM dti_scores WHERE id = :id"), {"id": score_id}).one()

    def bare_update() -> None:
        with ctx["engine"].begin() as conn:
            conn.execute(text("UPDATE dti_scores SET self_score = :v WHERE id = :id"),
                         {"v": next(flips), "id": score_id})

    return {"save_ms": _timed(save), "rank_ms": _timed(rank, 10), "sheet_ms": _timed(read_sheet, 10),
            "api_save_ms": _api_save(ctx), "sheet_page_ms": _sheet_page(ctx),
            "select_ms": _timed(bare_select), "update_ms": _timed(bare_update)}


def _api_save(ctx: dict[str, Any]) -> float:
    """Median server time of PUT …/scores/{code} through the Flask app, in process (no network)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "PLATFORM_SETTINGS": ctx["settings"]})
    client = app.test_client()
    with app.app_context():
        with ctx["uow"]() as u:
            user = u.session.scalar(select(User).where(User.username == "cv_dv07"))
            token, _expires = identity.issue_token(u, user, datetime.now(UTC))
            u.commit()
        headers = {"Authorization": f"Bearer {token}"}
        values = iter([0, 2] * (REPEAT + 1))
        path = f"/api/v1/dti/rounds/{ctx['round_id']}/units/dv07/scores/4.2.3"

        def put() -> None:
            response = client.put(path, headers=headers, json={"score": next(values)})
            assert response.status_code == 200, response.get_data(as_text=True)

        result = _timed(put)
        db.session.remove()
        db.engine.dispose()
    return result


def _sheet_page(ctx: dict[str, Any]) -> float:
    """Median server time of rendering one unit's whole scoring sheet page (webapp/dti.py) in process."""
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "PLATFORM_SETTINGS": ctx["settings"]})
    client = app.test_client()
    with app.app_context():
        with client.session_transaction() as session:
            session["_user_id"] = str(ctx["officer"].id)
            session["_fresh"] = True
        path = f"/dti/rounds/{ctx['round_id']}/units/dv07"

        def get() -> None:
            response = client.get(path)
            assert response.status_code == 200 and b"dti-self-input" in response.data, response.status_code

        result = _timed(get, 10)
        db.session.remove()
        db.engine.dispose()
    return result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dti-bench-") as workdir:
        ctx = setup(Path(workdir))
        figures = measure(ctx)
        ctx["engine"].dispose()
    baseline = figures["update_ms"]
    summary = {
        "round": {"units": UNITS, "scored_indicators": GROUPS * SUBGROUPS * LEAVES,
                  "indicators": GROUPS * (1 + SUBGROUPS * (1 + LEAVES)), "scores": UNITS * GROUPS * SUBGROUPS * LEAVES,
                  "database": "sqlite"},
        "setup_ms": {"import_index_set": round(ctx["import_ms"], 1), "open_round": round(ctx["open_ms"], 1)},
        "median_ms": {name: round(value, 2) for name, value in figures.items()},
        "targets_ms": {"save_one_change": TARGET_SAVE_MS, "rank_round": TARGET_RANK_MS},
        "within_target": {"save_one_change": figures["save_ms"] < TARGET_SAVE_MS,
                          "save_one_change_api": figures["api_save_ms"] < TARGET_SAVE_MS,
                          "rank_round": figures["rank_ms"] < TARGET_RANK_MS},
        "ratio_to_bare_update": {name: round(figures[name] / baseline, 1)
                                 for name in ("save_ms", "api_save_ms", "rank_ms", "sheet_ms", "sheet_page_ms",
                                              "select_ms")},
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
