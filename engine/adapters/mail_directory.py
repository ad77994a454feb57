"""Mail-directory adapter: carries out Phụ lục I rows (cấp mới, đổi tên, cấp lại mật khẩu, thu hồi)."""
from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.adapters.base import CallContext
from engine.persistence.models import AdapterOperation, MailAccount
from engine.services.identity import hash_password

ACTIONS = {
    "cap_moi": "Cấp mới",
    "doi_ten": "Đổi tên / thay đổi thông tin",
    "cap_lai_mat_khau": "Cấp lại mật khẩu",
    "thu_hoi": "Thu hồi",
}


def ascii_fold(text: str) -> str:
    """Vietnamese text without diacritics, lower case (đ → d)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def local_part(full_name: str, collective: bool) -> str:
    """Given name then initials (Nguyễn Văn An → annv); units use all initials."""
    words = re.findall(r"[a-z0-9]+", ascii_fold(full_name))
    if not words:
        return "taikhoan"
    if collective:
        return "".join(w[0] for w in words)
    return words[-1] + "".join(w[0] for w in words[:-1])


def _outcome(row: Mapping[str, Any], ok: bool, text: str, address: str = "") -> dict[str, Any]:
    result = dict(row)
    result.update(ket_qua=text, dia_chi=address or row.get("dia_chi_hien_tai", ""),
                  trang_thai="thanh_cong" if ok else "that_bai",
                  thao_tac_ten=ACTIONS.get(str(row.get("thao_tac")), str(row.get("thao_tac"))))
    return {"row": result}


class LocalMailDirectory:
    """Records mailboxes in the platform's database (the embedded default)."""

    name = "local"

    def __init__(self, session_factory: Callable[[], Session], domain: str) -> None:
        self._sessions = session_factory
        self.domain = domain

    def apply(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        row = data.get("row") or {}
        session = self._sessions()
        try:
            done = session.get(AdapterOperation, key)
            if done is not None:
                return dict(done.result)
            result = self._apply(session, row)
            session.add(AdapterOperation(key=key, adapter="mail_directory.local", result=result))
            session.commit()
            return result
        finally:
            session.close()

    def _apply(self, session: Session, row: Mapping[str, Any]) -> dict[str, Any]:
        action = row.get("thao_tac")
        if action == "cap_moi":
            return self._create(session, row)
        account = session.scalar(select(MailAccount).where(
            MailAccount.address == str(row.get("dia_chi_hien_tai") or "").strip().lower()))
        if account is None:
            return _outcome(row, False, "Không thực hiện: không tìm thấy địa chỉ thư hiện tại")
        if action == "doi_ten":
            account.display_name = row.get("ho_ten") or account.display_name
            account.unit_name = row.get("don_vi") or account.unit_name
            account.title = row.get("chuc_vu") or account.title
            return _outcome(row, True, "Đã cập nhật thông tin", account.address)
        if action == "cap_lai_mat_khau":
            account.password_hash = hash_password(secrets.token_urlsafe(12))
            return _outcome(row, True, "Đã cấp lại mật khẩu (gửi riêng cho người dùng)", account.address)
        if action == "thu_hoi":
            account.active = False
            return _outcome(row, True, "Đã thu hồi (khóa tài khoản, giữ dữ liệu)", account.address)
        return _outcome(row, False, f"Không thực hiện: thao tác không hợp lệ ({action})")

    def _create(self, session: Session, row: Mapping[str, Any]) -> dict[str, Any]:
        collective = row.get("loai") == "tap_the"
        base = local_part(str(row.get("ho_ten") or ""), collective)
        address, n = f"{base}@{self.domain}", 1
        while session.scalar(select(MailAccount.id).where(MailAccount.address == address)):
            address, n = f"{base}{n}@{self.domain}", n + 1
        # The initial password is never returned: only its hash is kept here,
        # and delivery to the person goes through a separate channel.
        session.add(MailAccount(
            address=address, display_name=row.get("ho_ten") or "", unit_name=row.get("don_vi") or "",
            title=row.get("chuc_vu") or "", kind="tap_the" if collective else "ca_nhan",
            password_hash=hash_password(secrets.token_urlsafe(12)),
        ))
        session.flush()
        return _outcome(row, True, "Đã cấp mới", address)
