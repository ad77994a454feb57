"""Servers the tests start as child processes (slapd, Dovecot): stopping one."""
from __future__ import annotations

import subprocess
from typing import Any


def stop(process: subprocess.Popen[Any]) -> None:
    """Ask the server to stop; kill it when it has not stopped within 10 seconds."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
