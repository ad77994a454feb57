"""Worker process: `python -m scripts.worker` claims due instances and runs their service tasks."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from engine.adapters.registry import build_registry
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.uow import UnitOfWork
from engine.services.calendar import override_loader
from engine.services.context import Services
from engine.services.hotline_mail import MailPolling
from engine.settings import Settings
from engine.worker import run_once, worker_name


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Tiến trình xử lý công việc tự động (service task)")
    parser.add_argument("--interval", type=float, default=1.0, help="giây giữa hai lần quét")
    parser.add_argument("--once", action="store_true", help="chạy một lượt rồi thoát")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="thoát khi tiến trình cha (make run) không còn")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    services = Services(settings, build_registry(settings, sessions), calendar_overrides=override_loader(sessions))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    owner = worker_name()
    parent = os.getppid()
    # The hotline's mailbox (HOTLINE_IMAP_HOST): read every HOTLINE_IMAP_POLL_SECONDS; a failure is logged
    # and tried again next time, the service tasks go on.
    mail = MailPolling(services)
    logging.info("worker %s started%s", owner, " (reading the hotline mailbox)" if mail.enabled else "")
    while not stop.is_set():
        mail.tick(lambda: UnitOfWork(sessions))
        done = run_once(lambda: UnitOfWork(sessions), services, owner)
        if done:
            logging.info("%d service call(s) done", done)
        if args.once or (args.exit_with_parent and os.getppid() != parent):
            break
        stop.wait(0 if done else args.interval)
    engine.dispose()


if __name__ == "__main__":
    main()
