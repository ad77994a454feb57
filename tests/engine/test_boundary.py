"""engine/ runs without Flask: the worker and scripts import it with no web stack."""
from __future__ import annotations

import ast
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parents[2] / "engine"
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_babel", "flask_wtf",
             "flask_smorest", "flask_migrate", "webapp")


def imported_modules(source: str) -> set[str]:
    """Every module an `import` or `from … import` names, at any depth (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "__import__" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def forbidden_imports(source: str) -> set[str]:
    return {m for m in imported_modules(source) if m.split(".")[0] in FORBIDDEN}


def test_no_engine_module_imports_flask_or_the_web_app() -> None:
    files = sorted(ENGINE_DIR.rglob("*.py"))
    assert len(files) > 10  # the scan really looked at the engine
    offenders = {
        str(path.relative_to(ENGINE_DIR)): sorted(found)
        for path in files
        if (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_scan_sees_imports_anywhere() -> None:
    source = '''
import os
def handler():
    import flask
    from flask_login import current_user
class Late:
    def method(self):
        from webapp.extensions import db
        __import__("flask_sqlalchemy")
'''
    assert forbidden_imports(source) == {"flask", "flask_login", "webapp.extensions", "flask_sqlalchemy"}
    assert forbidden_imports("import flasky\nfrom . import flask\n") == set()
