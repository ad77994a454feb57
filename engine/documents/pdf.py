"""DOCX → PDF with LibreOffice (`soffice --headless --convert-to pdf`), when it is installed.

Each conversion runs in its own temporary folder with its own LibreOffice profile
(`-env:UserInstallation=file://…`): two conversions sharing a profile would collide on its lock
and one would silently do nothing. The process group is killed after `pdf_timeout_seconds`.
Any failure gives None and a logged warning; the DOCX is always kept by the caller.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from engine.settings import Settings

log = logging.getLogger(__name__)


def find_soffice(settings: Settings) -> str | None:
    """The LibreOffice program to run: SOFFICE when set ("off" turns PDF off), else `soffice` on PATH."""
    configured = settings.soffice_path.strip()
    if configured.lower() == "off":
        return None
    if configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        return shutil.which(configured)
    return shutil.which("soffice")


def _run(command: list[str], workdir: Path, timeout: int) -> subprocess.CompletedProcess[bytes] | None:
    environment = {**os.environ, "HOME": str(workdir)}  # LibreOffice writes under HOME otherwise
    with subprocess.Popen(command, cwd=workdir, env=environment, stdout=subprocess.PIPE,  # noqa: S603 - fixed argv, no shell
                          stderr=subprocess.PIPE, start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # soffice starts soffice.bin as a child: end the whole group, not just the launcher.
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            log.warning("PDF conversion stopped after %s s", timeout)
            return None
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def to_pdf(docx: bytes, settings: Settings) -> bytes | None:
    """The PDF of a DOCX, or None when LibreOffice is missing or the conversion fails."""
    soffice = find_soffice(settings)
    if soffice is None:
        log.info("LibreOffice (soffice) not found: documents are issued as DOCX only")
        return None
    with tempfile.TemporaryDirectory(prefix="van-ban-") as folder:
        workdir = Path(folder)
        source, out = workdir / "van_ban.docx", workdir / "pdf"
        source.write_bytes(docx)
        command = [soffice, f"-env:UserInstallation={(workdir / 'profile').as_uri()}", "--headless",
                   "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir", str(out), str(source)]
        try:
            done = _run(command, workdir, settings.pdf_timeout_seconds)
        except OSError as exc:
            log.warning("PDF conversion could not start: %s", exc)
            return None
        if done is None:
            return None
        target = out / "van_ban.pdf"
        pdf = target.read_bytes() if target.is_file() else b""
        if done.returncode != 0 or not pdf.startswith(b"%PDF"):
            log.warning("PDF conversion failed (exit %s): %s", done.returncode,
                        done.stderr.decode("utf-8", "replace").strip()[-500:])
            return None
        return pdf
