"""Flask CLI: `flask --app webapp procedures|demo|users|calendar|hotline …` — each command calls one service."""
from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app

from engine.adapters.base import AdapterError
from engine.domain.errors import DomainError, PublishRefused
from engine.persistence.migrate import upgrade
from engine.services import (
    calendar,
    demo,
    hotline_board,
    hotline_mail,
    hotline_sample,
    hotline_webhook,
    identity,
    publishing,
    queries,
)
from webapp.platform import publish, services, uow


def _files_for(paths: tuple[str, ...]) -> list[dict[str, bytes]]:
    """Each .bpmn is one publication, with any .form/.dmn given alongside."""
    extras = {Path(p).name: Path(p).read_bytes() for p in paths if not p.endswith(".bpmn")}
    return [{Path(p).name: Path(p).read_bytes(), **extras} for p in paths if p.endswith(".bpmn")]


def publish_all(file_sets: list[dict[str, bytes]]) -> bool:
    ok = True
    for files in file_sets:
        with uow() as work:
            try:
                version, created = publish(work, files, None)
            except PublishRefused as err:
                ok = False
                click.echo(f"✗ {', '.join(files)}: {err.message.vi}", err=True)
                for p in err.details:
                    click.echo(f"   - [{p.element_id}] {p.element_name}: {p.message.vi}", err=True)
                continue
        state = "đã công bố" if created else "không đổi"
        click.echo(f"✓ {version.process_id} phiên bản {version.version} ({state})")
    return ok


def write_demo_accounts(accounts: list[demo.DemoAccount]) -> Path:
    """Keep first-run passwords under instance/ (mode 600) so later starts can print them."""
    path = Path(current_app.instance_path) / "demo_accounts.txt"
    known = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, password = line.partition("\t")
            known[name] = password
    for account in accounts:
        if account.password:
            known[account.username] = account.password
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}\t{v}\n" for k, v in known.items()), encoding="utf-8")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


def print_demo_accounts(accounts: list[demo.DemoAccount], path: Path) -> None:
    known = dict(line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line)
    click.echo("Tài khoản dùng thử (tên đăng nhập / mật khẩu):")
    width = max((len(a.username) for a in accounts), default=0)
    for a in accounts:
        password = a.password or known.get(a.username, "(đã đổi, không hiển thị)")
        click.echo(f"  {a.username:<{width}}  {password:<14} {a.full_name} — {a.unit} — {a.roles}")


def init_calendar_commands(app: Flask) -> None:
    @app.cli.group("calendar")
    def calendar_group() -> None:
        """Lịch làm việc: tính hạn, xem ngày nghỉ."""

    @calendar_group.command("deadline")
    @click.option("--from", "start", required=True,
                  help="Thời điểm nhận, ISO 8601 (không ghi múi giờ: giờ Việt Nam), ví dụ 2026-02-13T15:00")
    @click.option("--working-days", type=int, help="Số ngày làm việc")
    @click.option("--working-hours", type=float, help="Số giờ làm việc")
    @click.option("--before", is_flag=True, help="Tính lùi (ví dụ hạn gửi trước ngày họp)")
    def calendar_deadline(start: str, working_days: int | None, working_hours: float | None,
                          before: bool) -> None:
        """In hạn (ISO 8601) sau một số ngày hoặc giờ làm việc."""
        platform = services()
        try:
            moment = calendar.parse_moment(start, platform.settings.timezone)
            due = calendar.deadline(platform, moment, working_days, working_hours, before)
        except DomainError as err:
            raise click.UsageError(err.message.vi) from None
        click.echo(due.isoformat())

    @calendar_group.command("days")
    @click.argument("year", type=int)
    def calendar_days(year: int) -> None:
        """Liệt kê ngày nghỉ lễ, nghỉ bù, làm bù và điều chỉnh của một năm."""
        with uow() as work:
            try:
                view = calendar.year_view(work, services(), year)
            except DomainError as err:
                raise click.UsageError(err.message.vi) from None
        for day in view.special_days:
            kind = "làm việc" if day.is_working else "nghỉ"
            click.echo(f"{day.day.isoformat()}\t{kind}\t{day.source.value}\t{day.name}")


def init_hotline_commands(app: Flask) -> None:
    @app.cli.group("hotline")
    def hotline_group() -> None:
        """Tổng đài 1022: tiếp nhận phiếu từ các kênh."""

    @hotline_group.command("read-mail")
    def hotline_read_mail() -> None:
        """Đọc hộp thư của Tổng đài 1022 (HOTLINE_IMAP_*) một lần: mỗi thư chưa đọc thành một phiếu."""
        try:
            summary = hotline_mail.read_mail(uow, services())
        except AdapterError as err:
            raise click.ClickException(str(err)) from None
        except DomainError as err:
            raise click.ClickException(err.message.vi) from None
        click.echo(summary.text())

    @hotline_group.command("simulate")
    @click.option("--days", default=1, show_default=True, type=click.IntRange(1, 31),
                  help="Số ngày (24 giờ) gần nhất có phiếu mẫu, tính đến bây giờ")
    @click.option("--count", default=None, type=click.IntRange(1, hotline_sample.MAX_COUNT),
                  help="Số phiếu (mặc định 40 phiếu mỗi ngày)")
    @click.option("--seed", default=None, type=int, help="Hạt giống ngẫu nhiên (để tạo lại đúng bộ phiếu)")
    def hotline_simulate(days: int, count: int | None, seed: int | None) -> None:
        """Tạo phiếu mẫu như một ngày làm việc thật của Tổng đài 1022 (cho màn hình giám sát, thống kê)."""
        now = services().now()
        today = hotline_board.today(services())
        since = now - timedelta(days=days)
        first = today - timedelta(days=days)
        try:
            made = hotline_sample.generate(uow, services(), first, today, count or 40 * days,
                                           seed if seed is not None else int(now.timestamp()), until=now,
                                           since=since)
        except DomainError as err:
            raise click.ClickException(err.message.vi) from None
        closed = sum(1 for t in made.tickets if t.closed_at)
        click.echo(f"Đã tạo {len(made.tickets)} phiếu trong {days * 24} giờ qua: "
                   f"{closed} đã đóng, {len(made.tickets) - closed} đang mở.")

    @hotline_group.command("sign-webhook")
    @click.option("--channel", required=True, type=click.Choice(hotline_webhook.CHANNEL_CODES),
                  help="Kênh của cổng: zalo, facebook, chat")
    @click.option("--file", "path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Tệp JSON tin nhắn, gửi nguyên byte (curl --data-binary)")
    def hotline_sign_webhook(channel: str, path: Path) -> None:
        """In tiêu đề ký (có hiệu lực HOTLINE_WEBHOOK_WINDOW_SECONDS giây) và lệnh curl để thử webhook."""
        platform = services()
        try:
            headers = hotline_webhook.signature_headers(platform.settings, channel, path.read_bytes(),
                                                        platform.now())
        except DomainError as err:
            raise click.ClickException(err.message.vi) from None
        for name, value in headers.items():
            click.echo(f"{name}: {value}")
        url = f"{platform.settings.public_base_url}/api/v1/hotline/webhook/{channel}"
        options = " ".join(f"-H '{name}: {value}'" for name, value in headers.items())
        click.echo(f"curl -sS -X POST {url} -H 'Content-Type: application/json' {options} --data-binary @{path}")


def init_app(app: Flask) -> None:
    init_calendar_commands(app)
    init_hotline_commands(app)

    @app.cli.group("procedures")
    def procedures_group() -> None:
        """Công bố và liệt kê quy trình."""

    @procedures_group.command("publish")
    @click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
    def publish_command(paths: tuple[str, ...]) -> None:
        """Công bố quy trình từ tệp .bpmn (kèm .form/.dmn); không có đối số: mọi quy trình có sẵn."""
        sets = _files_for(paths) if paths else publishing.bundled_procedures(services().settings.processes_dir)
        if not publish_all(sets):
            raise SystemExit(1)

    @procedures_group.command("list")
    def list_command() -> None:
        """Liệt kê các phiên bản đã công bố."""
        with uow() as work:
            for v in queries.versions(work):
                click.echo(f"{v.process_id}\tv{v.version}\t{v.content_hash[:12]}\t{v.name}")

    @app.cli.group("demo")
    def demo_group() -> None:
        """Dữ liệu dùng thử."""

    @demo_group.command("load")
    def demo_load() -> None:
        """Tạo đơn vị và tài khoản dùng thử (mỗi vai trò một tài khoản), in mật khẩu."""
        with uow() as work:
            accounts = demo.load(work)
        print_demo_accounts(accounts, write_demo_accounts(accounts))

    @app.cli.group("users")
    def users_group() -> None:
        """Quản lý người dùng."""

    @users_group.command("create")
    @click.argument("username")
    @click.option("--name", "full_name", required=True, help="Họ và tên")
    @click.option("--unit", "unit_code", required=True, help="Mã đơn vị, ví dụ sttt")
    @click.option("--role", "roles", multiple=True, required=True,
                  help="chuyen_vien, lanh_dao, van_thu, quan_tri, ky_thuat (lặp lại để thêm)")
    @click.option("--email", default="", help="Địa chỉ thư nhận thông báo (liên kết mật khẩu…)")
    @click.password_option("--password", help="Mật khẩu (ít nhất 8 ký tự)")
    def users_create(username: str, full_name: str, unit_code: str, roles: tuple[str, ...],
                     email: str, password: str) -> None:
        """Tạo tài khoản người dùng."""
        with uow() as work:
            try:
                identity.create_user(work, username, full_name, password, unit_code, list(roles),
                                     email=email or None)
                work.commit()
            except DomainError as err:
                raise click.ClickException(err.message.vi) from None
        click.echo(f"Đã tạo người dùng {username}")

    @app.cli.command("migrate-db")
    def migrate_db() -> None:
        """Tạo/nâng cấp cơ sở dữ liệu lên phiên bản mới nhất."""
        upgrade(services().settings.database_url)
        click.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")
