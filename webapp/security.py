"""Security headers on every response; the CSP allows no inline script."""
from __future__ import annotations

from flask import Flask, Response

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; font-src 'self'; "
       "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def init_app(app: Flask) -> None:
    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
