"""PROXY_HOPS: behind a trusted reverse proxy the client's address comes from X-Forwarded-For (the public pages'
limits are per citizen, not per proxy); without it the header is ignored (nobody picks their own address)."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.settings import Settings
from tests.web.test_hotline_public_pages import LOOKUP_URL, hidden

NOT_FOUND = "Không tìm thấy phiếu với mã và số điện thoại này."


def lookup_from(client: FlaskClient, address: str) -> int:
    headers = {"X-Forwarded-For": address}
    page = client.get(LOOKUP_URL, headers=headers).get_data(as_text=True)
    reply = client.post(LOOKUP_URL, headers=headers, data={
        "csrf_token": hidden(page, "csrf_token"), "code": "1022-2026-000001", "phone": "0912345678"})
    if reply.status_code == 200:
        assert NOT_FOUND in reply.get_data(as_text=True)
    return reply.status_code


class TestBehindAProxy:
    @pytest.fixture
    def settings(self, db_url: str) -> Settings:
        return Settings(database_url=db_url, hotline_lookup_per_hour=1, proxy_hops=1)

    def test_each_citizen_has_their_own_limit(self, app: Flask, client: FlaskClient) -> None:
        assert lookup_from(client, "203.0.113.5") == 200
        assert lookup_from(client, "203.0.113.5") == 429
        assert lookup_from(client, "203.0.113.6") == 200


class TestWithoutAProxy:
    @pytest.fixture
    def settings(self, db_url: str) -> Settings:
        return Settings(database_url=db_url, hotline_lookup_per_hour=1)

    def test_a_forged_forwarded_for_changes_nothing(self, app: Flask, client: FlaskClient) -> None:
        assert lookup_from(client, "203.0.113.5") == 200
        assert lookup_from(client, "203.0.113.6") == 429
