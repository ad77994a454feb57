"""Hotline 1022 capacity: 100 concurrent intakes on SQLite and PostgreSQL, and the knowledge-base search.

Run with `make bench` (or `python -m bench.hotline`). QĐ 1244 asks for 10 concurrent calls, expandable to 100.
For each database (a fresh SQLite file in WAL mode; a throwaway PostgreSQL database on TEST_POSTGRES_URL's server
when one is reachable, else that part is reported as unreachable) it publishes `hotline_1022` with its routing
table and then:

- baseline, measured in the same run on the same database: 30 intakes one after another (one thread), the
  latency of one intake with nobody else writing;
- load: 100 threads released together by a barrier, each taking one contact through
  engine.services.hotline.intake — mixed channels (phone typed by the operator; e-mail, web form, Zalo,
  Facebook and live chat arriving by themselves with a message id), each in its own transaction: the ticket,
  its code from the year's register and its running `hotline_1022` instance;
- checks: 100 tickets, no error, 100 distinct codes whose numbers follow on from the baseline's without a gap,
  one instance per ticket.

The knowledge base: 3,000 published articles (20 fields), then the median of searches an operator types (with
and without diacritics, one to four words, with a field filter), against the baseline of reading one article by
its id in the same run.

Prints a JSON summary: p50/p99 in milliseconds, the ratios to the sequential baseline, and the checks.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, pool, select, text
from sqlalchemy.engine import make_url

from engine.adapters.registry import KNOWN_TOPICS, build_registry
from engine.domain.hotline import FIELDS
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.migrate import upgrade
from engine.persistence.models import HotlineTicket, KbArticle, ProcessInstance, User
from engine.persistence.uow import UnitOfWork
from engine.services import hotline, identity, knowledge_base, publishing
from engine.services.context import Services
from engine.settings import ROOT, Settings

CONCURRENT = 100
SEQUENTIAL = 30
ARTICLES = 3000
SEARCH_REPEAT = 30
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CHANNELS = ("dien_thoai", "email", "web", "zalo", "facebook", "chat")
CONTENTS = (
    "Hỏi thủ tục cấp lại giấy khai sinh cho con",
    "Phản ánh đèn chiếu sáng đường Nguyễn Huệ bị hư nhiều ngày",
    "Hỏi lịch tiêm vắc xin cho trẻ tại trạm y tế phường",
    "Đề nghị kiểm tra cơ sở sản xuất gây ô nhiễm tiếng ồn ban đêm",
    "Hồ sơ đăng ký kinh doanh nộp trực tuyến đã quá hạn chưa có kết quả",
)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@contextmanager
def _postgres() -> Iterator[str | None]:
    """A throwaway database on the test server, dropped afterwards; None when the server is unreachable."""
    admin = create_engine(PG_ADMIN_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    name = f"bench_hotline_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # noqa: BLE001 - any failure to reach the server means "no PostgreSQL here"
        admin.dispose()
        yield None
        return
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _platform(url: str) -> tuple[Callable[[], UnitOfWork], Services, User, Any]:
    upgrade(url)
    settings = Settings(database_url=url, soffice_path="off")
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions)

    with uow() as u:
        identity.ensure_unit(u, hotline.OPERATOR_UNIT, "Trung tâm Phục vụ hành chính công")
        identity.create_user(u, "tongdai", "Đinh Thị Thoại", "matkhau-bench-1022", hotline.OPERATOR_UNIT,
                             ["tong_dai_vien"])
        u.commit()
    (files,) = (f for f in publishing.bundled_procedures(ROOT / "processes") if "hotline_1022.bpmn" in f)
    with uow() as u:
        publishing.publish(u, files, None, forms_dir=ROOT / "forms", topics=KNOWN_TOPICS,
                           max_bytes=settings.max_upload_bytes, templates_dir=settings.templates_dir)
    with sessions() as s:
        operator = s.scalars(select(User).where(User.username == "tongdai")).unique().one()
        _ = operator.roles, operator.unit
        s.expunge_all()
    return uow, Services(settings, build_registry(settings, sessions)), operator, engine


def _contact(i: int, operator: User, run: str) -> tuple[User | None, dict[str, Any]]:
    channel = CHANNELS[i % len(CHANNELS)]
    values: dict[str, Any] = {"channel": channel, "caller": f"Người dân số {i}", "content": CONTENTS[i % len(CONTENTS)]}
    if channel == "dien_thoai":
        return operator, {**values, "phone": f"09{i:08d}"}
    if channel == "email":
        values["email"] = f"nguoidan{i}@example.org"
    else:
        values["phone"] = f"08{i:08d}"
    return None, {**values, "external_id": f"{channel}:{run}:{i}"}


def _intake(uow: Callable[[], UnitOfWork], services: Services, actor: User | None, values: dict[str, Any]) -> float:
    started = time.perf_counter()
    with uow() as u:
        hotline.intake(u, services, actor, **values)
    return (time.perf_counter() - started) * 1000


def intake_load(url: str) -> dict[str, Any]:
    uow, services, operator, engine = _platform(url)
    baseline = [_intake(uow, services, *_contact(i, operator, "seq")) for i in range(SEQUENTIAL)]

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CONCURRENT)

    def one(i: int) -> None:
        actor, values = _contact(i, operator, "load")
        barrier.wait()
        try:
            ms = _intake(uow, services, actor, values)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and printed
            with lock:
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            return
        with lock:
            latencies.append(ms)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = (time.perf_counter() - started) * 1000

    with uow() as u:
        codes = list(u.session.scalars(select(HotlineTicket.code)))
        instances = u.session.scalar(select(func.count(ProcessInstance.id))) or 0
        tickets = u.session.scalar(select(func.count(HotlineTicket.id))) or 0
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    engine.dispose()
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    base = statistics.median(baseline)
    return {
        "sequential_p50_ms": round(base, 1),
        "concurrent": CONCURRENT,
        "concurrent_p50_ms": round(p50, 1) if latencies else None,
        "concurrent_p99_ms": round(p99, 1) if latencies else None,
        "p50_vs_sequential": round(p50 / base, 2) if latencies else None,
        "p99_vs_sequential": round(p99 / base, 2) if latencies else None,
        "wall_ms": round(wall, 1),
        "tickets_per_second": round(len(latencies) / (wall / 1000), 1) if latencies else 0,
        "errors": errors[:5],
        "error_count": len(errors),
        "checks": {
            "tickets_created_under_load": len(numbers) - SEQUENTIAL,
            "codes_distinct_and_gapless": numbers == list(range(1, SEQUENTIAL + CONCURRENT + 1)),
            "one_instance_per_ticket": instances == tickets == SEQUENTIAL + CONCURRENT,
        },
    }


def knowledge_base_search(url: str) -> dict[str, Any]:
    uow, services, operator, engine = _platform(url)
    rng = random.Random(1022)
    words = ("giấy phép xây dựng", "khai sinh", "hộ khẩu", "bảo hiểm y tế", "học phí", "chiếu sáng",
             "cấp nước", "rác thải", "đăng ký kinh doanh", "ưu đãi đầu tư", "lễ hội", "ngập úng", "điện lưới")
    now = services.now()
    with uow() as u:
        for i in range(ARTICLES):
            field = FIELDS[i % len(FIELDS)].code
            topic, other = rng.choice(words), rng.choice(words)
            article = KbArticle(author_id=operator.id, author_name=operator.full_name, created_at=now,
                                is_published=True, published_at=now)
            knowledge_base.fill(article, field, f"Câu hỏi {i}: thủ tục {topic} cần những giấy tờ gì?",
                                f"Trả lời {i}: về {topic} và {other}, liên hệ Bộ phận Một cửa.",
                                f"{topic}, {other}", now)
            u.add(article)
        u.commit()
        first_id = u.session.scalar(select(func.min(KbArticle.id)))
    queries = [("giay phep xay dung", None), ("khai sinh", None), ("thủ tục bảo hiểm", "bao_hiem"),
               ("cap nuoc sinh hoat", None), ("hoc", None)]

    def bare_get() -> None:
        with uow() as u:
            assert u.session.get(KbArticle, first_id) is not None

    def search(query: str, field: str | None) -> Callable[[], None]:
        def run() -> None:
            with uow() as u:
                knowledge_base.search(u, operator, query, field)
        return run

    base = _median_ms(bare_get)
    per_query = {f"{q}|{f or ''}": round(_median_ms(search(q, f)), 2) for q, f in queries}
    engine.dispose()
    worst = max(per_query.values())
    return {"articles": ARTICLES, "baseline_get_by_id_ms": round(base, 3), "search_median_ms": per_query,
            "slowest_search_vs_get_by_id": round(worst / base, 1)}


def _median_ms(fn: Callable[[], None]) -> float:
    fn()
    samples = []
    for _ in range(SEARCH_REPEAT):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hotline-") as folder:
        results["intake_sqlite"] = intake_load(f"sqlite:///{Path(folder) / 'intake.db'}")
        results["kb_search_sqlite"] = knowledge_base_search(f"sqlite:///{Path(folder) / 'kb.db'}")
    with _postgres() as url:
        results["intake_postgresql"] = intake_load(url) if url else "unreachable"
    with _postgres() as url:
        results["kb_search_postgresql"] = knowledge_base_search(url) if url else "unreachable"
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
