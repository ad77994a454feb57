"""Hotline 1022 operator console and ticket page: a call typed in (with its recording), the caller's earlier
tickets, refusals that keep what was typed, masked and full contacts (audited), an urgent call forwarded, the
recording downloaded, and the operators' API."""
from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.persistence.models import AuditEvent, HotlineTicket
from tests.web.conftest import PASSWORD, Browser, add_people
from webapp.platform import uow

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 300
CALL = {"phone": "0913 123 456", "caller": "Nguyễn Văn An", "field": "thu_tuc_hanh_chinh",
        "content": "Hỏi thủ tục cấp lại giấy khai sinh bản chính"}


def staff(app: Flask) -> None:
    add_people(app, {"tongdai": ("Đinh Thị Thoại", "ttpvhcc", ["tong_dai_vien"]),
                     "ld_tinh": ("Châu Văn Minh", "so_tc", ["lanh_dao"])},
               {"ttpvhcc": "Trung tâm Phục vụ hành chính công"})


def post_call(browser: Browser, data: dict[str, str], file: tuple[bytes, str] | None = None) -> object:
    form: dict[str, object] = dict(data, csrf_token=browser.csrf("/hotline"))
    if file is not None:
        form["file"] = (io.BytesIO(file[0]), file[1])
    return browser.client.post("/hotline", data=form, content_type="multipart/form-data")


def first_code(client: FlaskClient) -> str:
    """The code of the caller's ticket, as the console's side panel shows it."""
    found = re.search(r"1022-\d{4}-\d{6}", client.get("/hotline/nguoi-goi?so=0913123456").get_data(as_text=True))
    assert found is not None
    return found.group(0)


def count(app: Flask, model: type, *where: object) -> int:
    with app.app_context(), uow() as work:
        return work.session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_an_operator_takes_a_call_with_its_recording(app: Flask, client: FlaskClient, browser: Browser) -> None:
    staff(app)
    browser.login("tongdai")
    page = client.get("/hotline").get_data(as_text=True)
    assert "Tiếp nhận cuộc gọi" in page and 'autofocus' in page and "hotline_console.js" in page
    assert 'aria-current="page" href="/hotline"' in page  # the console's tab is the active one
    created = post_call(browser, dict(CALL, recorded="1"), (MP3, "cuoc-goi.mp3"))
    assert created.status_code == 302  # type: ignore[attr-defined]
    location = created.headers["Location"]  # type: ignore[attr-defined]
    assert re.search(r"/hotline\?created=1022-\d{4}-000001&task=\d+", location)
    back = client.get(location).get_data(as_text=True)
    assert "Đã tạo phiếu 1022-" in back and "/hotline/phieu/1022-" in back and "/tasks/" in back
    assert 'name="phone" type="tel"' in back and CALL["content"] not in back  # an empty console again
    code = re.search(r"1022-\d{4}-000001", location).group(0)  # type: ignore[union-attr]
    with app.app_context(), uow() as work:
        ticket = work.session.scalar(select(HotlineTicket).where(HotlineTicket.code == code))
        assert ticket is not None and ticket.phone == "0913123456" and ticket.recorded_call
        assert ticket.recording_id is not None and ticket.channel == "dien_thoai" and ticket.field == CALL["field"]
        instance_id = ticket.instance_id
    # the next call from the same number: the side panel lists the first ticket
    panel = client.get("/hotline/nguoi-goi?so=%2B84913123456").get_data(as_text=True)
    assert code in panel and "Hỏi thủ tục cấp lại giấy khai sinh" in panel and "<html" not in panel
    assert "Chưa có phiếu nào của số này." in client.get("/hotline/nguoi-goi?so=0987654321").get_data(as_text=True)
    assert "không hợp lệ" in client.get("/hotline/nguoi-goi?so=0913").get_data(as_text=True)
    # the ticket page: masked, then full on request (audited); the recording downloads (audited)
    ticket_page = client.get(f"/hotline/phieu/{code}").get_data(as_text=True)
    assert "091****456" in ticket_page and "Nguyễn V. A." in ticket_page and "0913123456" not in ticket_page
    assert "Xem đầy đủ thông tin liên hệ" in ticket_page and "cuoc-goi.mp3" in ticket_page
    assert f'href="/instances/{instance_id}"' in ticket_page
    full = browser.post(f"/hotline/phieu/{code}", {}, page=f"/hotline/phieu/{code}").get_data(as_text=True)
    assert "0913123456" in full and "Nguyễn Văn An" in full
    download = client.get(f"/hotline/phieu/{code}/ghi-am")
    assert download.status_code == 200 and download.data == MP3 and download.mimetype == "audio/mpeg"
    assert count(app, AuditEvent, AuditEvent.action == "hotline.view_contact") == 2


def test_bad_input_keeps_the_values_and_creates_nothing(app: Flask, client: FlaskClient, browser: Browser) -> None:
    staff(app)
    browser.login("tongdai")
    refused = post_call(browser, dict(CALL, phone="0913"))
    html = refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Số điện thoại “0913” không hợp lệ" in html and CALL["content"] in html and 'value="Nguyễn Văn An"' in html
    empty = post_call(browser, dict(CALL, content="  ")).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "Nội dung phản ánh, kiến nghị không được để trống." in empty
    not_audio = post_call(browser, CALL, (b"%PDF-1.7", "cuoc-goi.mp3")).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "chỉ nhận MP3, WAV, OGG hoặc M4A" in not_audio and CALL["content"] in not_audio
    no_csrf = client.post("/hotline", data=CALL)
    assert no_csrf.status_code == 400
    assert count(app, HotlineTicket) == 0


def test_who_may_use_the_console_and_see_tickets(app: Flask, client: FlaskClient, browser: Browser) -> None:
    staff(app)
    browser.login("tongdai")
    post_call(browser, CALL)
    code = first_code(client)
    client.post("/logout", data={"csrf_token": browser.csrf("/hotline")})
    browser.login("ld_tinh")  # a leader: the ticket, masked, without the operators' forms
    assert client.get("/hotline").status_code == 403
    assert client.get("/hotline/nguoi-goi?so=0913123456").status_code == 403
    page = client.get(f"/hotline/phieu/{code}").get_data(as_text=True)
    assert "091****456" in page and "Xem đầy đủ thông tin liên hệ" not in page and "Chuyển cuộc gọi khẩn" not in page
    # the process history is linked only for who may open it
    with app.app_context(), uow() as work:
        instance_id = work.session.scalar(select(HotlineTicket.instance_id).where(HotlineTicket.code == code))
    assert (f'href="/instances/{instance_id}"' in page) == (client.get(f"/instances/{instance_id}").status_code == 200)
    assert browser.post(f"/hotline/phieu/{code}", {}, page=f"/hotline/phieu/{code}").status_code == 403
    assert client.get(f"/hotline/phieu/{code}/ghi-am").status_code == 403
    forward = browser.post(f"/hotline/phieu/{code}/chuyen-cuoc-goi", {"agency": "so_yt", "number": "113"},
                           page=f"/hotline/phieu/{code}")
    assert forward.status_code == 403
    client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login("cv_stc")  # staff of an agency the ticket is not routed to
    assert client.get(f"/hotline/phieu/{code}").status_code == 404
    assert client.get("/hotline/phieu/1022-2026-999999").status_code == 404


def test_an_urgent_call_is_forwarded_from_the_ticket_page(app: Flask, client: FlaskClient, browser: Browser) -> None:
    staff(app)
    browser.login("tongdai")
    post_call(browser, CALL)
    url = f"/hotline/phieu/{first_code(client)}"
    page = client.get(url).get_data(as_text=True)
    assert "Sở Y tế" in page and "Chưa có mục nào trong nhật ký phiếu." in page
    bad = browser.post(f"{url}/chuyen-cuoc-goi", {"agency": "so_yt", "number": "12", "note": "Khẩn cấp"}, page=url)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "số máy lẻ 3–6 chữ số" in html and "Khẩn cấp" in html
    done = browser.post(f"{url}/chuyen-cuoc-goi", {"agency": "so_yt", "agency_other": "", "number": "0277 3851 234",
                                                   "recorded": "1", "note": "Ngộ độc thực phẩm tập thể"}, page=url)
    assert done.status_code == 302
    log = client.get(url).get_data(as_text=True)
    assert "Chuyển cuộc gọi khẩn đến Sở Y tế (số 02773851234), có ghi âm." in log
    assert "Ngộ độc thực phẩm tập thể" in log and "Đinh Thị Thoại" in log
    other = browser.post(f"{url}/chuyen-cuoc-goi", {"agency": "", "agency_other": "Công an xã Mỹ Trà",
                                                    "number": "1234"}, page=url)
    assert other.status_code == 302
    assert "Chuyển cuộc gọi khẩn đến Công an xã Mỹ Trà (số 1234)." in client.get(url).get_data(as_text=True)
    assert count(app, AuditEvent, AuditEvent.action == "hotline.forward_call") == 2
    # a recording uploaded afterwards from the ticket page; a wrong one is refused on the page
    wrong = client.post(f"{url}/ghi-am", data={"csrf_token": browser.csrf(url), "file": (io.BytesIO(b"RIFF"), "a.wav")},
                        content_type="multipart/form-data")
    assert wrong.status_code == 400 and "chỉ nhận MP3, WAV, OGG hoặc M4A" in wrong.get_data(as_text=True)
    stored = client.post(f"{url}/ghi-am", data={"csrf_token": browser.csrf(url), "file": (io.BytesIO(MP3), "goi.mp3")},
                         content_type="multipart/form-data")
    assert stored.status_code == 302 and "goi.mp3" in client.get(url).get_data(as_text=True)


def test_operators_api(app: Flask, client: FlaskClient) -> None:
    staff(app)

    def headers(username: str) -> dict[str, str]:
        token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        return {"Authorization": f"Bearer {token.get_json()['token']}"}

    operator = headers("tongdai")
    created = client.post("/api/v1/hotline/tickets", headers=operator, json={
        "phone": "+84 913 123 456", "caller": "Nguyễn Văn An", "content": "Hỏi lịch tiếp công dân", "field": ""})
    body = created.get_json()
    assert created.status_code == 201 and re.fullmatch(r"1022-\d{4}-000001", body["code"])
    assert body["classify_task_id"] and body["url"] == f"/hotline/phieu/{body['code']}"
    earlier = client.get("/api/v1/hotline/callers/0913123456/tickets", headers=operator)
    assert earlier.status_code == 200
    assert [(t["code"], t["state_label"], t["excerpt"]) for t in earlier.get_json()] == \
        [(body["code"], "Mới tiếp nhận", "Hỏi lịch tiếp công dân")]
    bad = client.post("/api/v1/hotline/tickets", headers=operator, json={"phone": "12", "content": "Hỏi"})
    assert bad.status_code == 400 and "không hợp lệ" in bad.get_json()["error"]["message"]
    assert client.post("/api/v1/hotline/tickets", headers=operator, json={"phone": "0913123456"}).status_code == 400
    assert client.get("/api/v1/hotline/callers/0913/tickets", headers=operator).status_code == 400
    leader = headers("ld_tinh")
    assert client.post("/api/v1/hotline/tickets", headers=leader,
                       json={"phone": "0913123456", "content": "Hỏi"}).status_code == 403
    assert client.get("/api/v1/hotline/callers/0913123456/tickets", headers=leader).status_code == 403
    assert client.get("/api/v1/hotline/callers/0913123456/tickets").status_code == 401
    assert count(app, HotlineTicket) == 1
