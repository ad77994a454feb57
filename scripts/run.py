"""`make run`: migrate, publish bundled procedures, load demo accounts, start web + worker."""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys

from werkzeug.serving import run_simple

from engine.persistence.migrate import upgrade
from engine.services import publishing
from webapp import create_app
from webapp.cli import print_demo_accounts, publish_all, write_demo_accounts
from webapp.platform import services, uow


def prepare() -> object:
    app = create_app()
    with app.app_context():
        settings = services().settings
        upgrade(settings.database_url)
        publish_all(publishing.bundled_procedures(settings.processes_dir))
        from engine.services import demo
        with uow() as work:
            accounts = demo.load(work)
        print_demo_accounts(accounts, write_demo_accounts(accounts))
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Chạy nền tảng (web + worker)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    app = prepare()
    worker = subprocess.Popen([sys.executable, "-m", "scripts.worker", "--exit-with-parent"])
    # SIGTERM must also stop the worker: turn it into the same exit path as Ctrl+C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"Mở http://{args.host}:{args.port} và đăng nhập bằng một tài khoản ở trên. Ctrl+C để dừng.")
    try:
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        worker.terminate()
        worker.wait(timeout=10)


if __name__ == "__main__":
    main()
