"""Request bodies are bounded before anything parses them (issue 12): a 1 GiB post to /login is
refused from its Content-Length without a byte read, a chunked one is cut off at the limit, an
anonymous post to an upload route is sent to the login page before its body is read, and the
API answers 413 with problem details. The bodies are generators that would never end; the
tests count what the app consumed.

The app is driven as ASGI directly: the test client reads a request body whole before the app
sees it, which is exactly what must not happen here.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.i18n import LOCALE_COOKIE
from maintenance.main import FORM_BODY_BYTES
from maintenance.monitoring.readings import imports as reading_imports
from maintenance.org import service as org_service
from maintenance.org.models import Role, UserWorkshop
from tests import factories
from tests.conftest import csrf_token, login

CHUNK = b"x" * 65536
GIB = 2**30
# What a body generator offers at most: far more than any limit here, yet finite, so that an
# app that read bodies whole would be seen reading all of it (and the test would still end).
OFFERED_CHUNKS = 160


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    consumed: int = 0
    sent: list[dict[str, object]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode()


def call(
    app: FastAPI,
    path: str,
    chunks: Iterable[bytes],
    *,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> Answer:
    """POST ``path`` with a body streamed from ``chunks``, counting the bytes the app takes."""
    consumed = 0
    source: Iterator[bytes] = iter(chunks)

    async def receive() -> dict[str, object]:
        nonlocal consumed
        chunk = next(source, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    all_headers = {"host": "testserver", **(headers or {})}
    cookie = {LOCALE_COOKIE: "en", **(cookies or {})}
    all_headers["cookie"] = "; ".join(f"{name}={value}" for name, value in cookie.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in all_headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    # On a thread of its own: a browser test earlier in this worker leaves Playwright's event
    # loop running on the main thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(bytes(message.get("body", b"")) for message in sent if message["type"] == "http.response.body")  # type: ignore[arg-type]
    response_headers = {bytes(k).decode(): bytes(v).decode() for k, v in start["headers"]}  # type: ignore[attr-defined]
    return Answer(int(start["status"]), response_headers, body, consumed)  # type: ignore[call-overload]


def endless() -> Iterator[bytes]:
    """10 MiB in 64 KiB chunks, as long as the app asks for more."""
    return itertools.repeat(CHUNK, OFFERED_CHUNKS)


def multipart_start(boundary: str = "limit") -> Iterator[bytes]:
    """A multipart form whose file part never ends."""
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="readings.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return itertools.chain([head], endless())


def session_cookie(client: TestClient) -> dict[str, str]:
    return {"maintenance_session": client.cookies["maintenance_session"]}


def test_a_body_declared_larger_than_the_limit_is_refused_without_reading_it(app: FastAPI) -> None:
    answer = call(
        app,
        "/login",
        endless(),
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": str(GIB)},
    )
    assert answer.status == 413
    assert answer.consumed == 0
    assert "The request is too large: this page accepts at most 256 KB." in answer.text


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=limit"],
)
def test_a_streamed_body_is_cut_off_at_the_limit(app: FastAPI, content_type: str) -> None:
    chunks = multipart_start() if content_type.startswith("multipart") else endless()
    answer = call(app, "/login", chunks, headers={"content-type": content_type})
    assert answer.status == 413
    assert FORM_BODY_BYTES <= answer.consumed <= FORM_BODY_BYTES + 2 * len(CHUNK)
    assert "at most 256 KB" in answer.text


@pytest.mark.parametrize("token_in", ["form", "header"])
@pytest.mark.parametrize("path", ["/monitoring/import", "/assets/import/preview"])
def test_an_anonymous_upload_is_sent_to_the_login_page_before_its_body_is_read(
    app: FastAPI, client: TestClient, path: str, token_in: str
) -> None:
    """A browser's form sends its CSRF token in the body (which the CSRF check would read
    whole to find it); htmx sends it as a header."""
    token = csrf_token(client)  # a session with a CSRF token, but nobody logged in
    headers = {"content-type": "multipart/form-data; boundary=limit"}
    if token_in == "header":
        headers["x-csrf-token"] = token
    answer = call(app, path, multipart_start(), headers=headers, cookies=session_cookie(client))
    assert answer.status == 303
    assert answer.headers["location"].startswith("/login")
    assert answer.consumed == 0


def test_an_upload_larger_than_its_route_allows_is_refused_without_reading_it(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    engineer = factories.UserFactory(role=Role.ENGINEER)
    workshop = factories.WorkshopFactory()
    session.add(UserWorkshop(user_id=engineer.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    token = login(client, engineer)
    answer = call(
        app,
        "/monitoring/import",
        multipart_start(),
        headers={
            "content-type": "multipart/form-data; boundary=limit",
            "content-length": str(reading_imports.MAX_UPLOAD_BYTES + 2**20),
            "x-csrf-token": token,
        },
        cookies=session_cookie(client),
    )
    assert answer.status == 413
    assert answer.consumed == 0
    assert "at most 200 MB" in answer.text


def test_an_upload_route_takes_more_than_an_ordinary_form(client: TestClient, session: Session) -> None:
    """The control for the tests above: a signed-in engineer's file of 300 KB (more than a form
    may be) reaches the import, which reads it."""
    engineer = factories.UserFactory(role=Role.ENGINEER)
    token = login(client, engineer)
    client.cookies.set(LOCALE_COOKIE, "en")
    content = ("测点编号,时间,数值\r\n" + "NOPE,2026-03-05 08:00,1.5\r\n" * 12_000).encode()
    assert len(content) > FORM_BODY_BYTES
    response = client.post(
        "/monitoring/import",
        data={"csrf_token": token, "mode": "dry"},
        files={"file": ("readings.csv", content, "text/csv")},
    )
    assert response.status_code == 200, response.text[:500]
    assert "Dry run" in response.text


def test_the_api_answers_413_with_problem_details(app: FastAPI) -> None:
    answer = call(
        app,
        "/api/v1/readings",
        endless(),
        headers={"content-type": "application/json", "content-length": str(GIB), "authorization": "Bearer mt_x"},
    )
    assert answer.status == 413
    assert answer.consumed == 0
    assert answer.headers["content-type"] == "application/problem+json"
    assert b'"status":413' in answer.body


def test_a_chunked_api_body_is_cut_off_at_the_limit(app: FastAPI, session: Session) -> None:
    admin = factories.UserFactory(role=Role.ADMIN)
    _token, plaintext = org_service.create_api_token(
        session, admin, name="limit", scopes=["readings:write"], actor=admin
    )
    answer = call(
        app,
        "/api/v1/readings",
        endless(),
        headers={"content-type": "application/json", "authorization": f"Bearer {plaintext}"},
    )
    assert answer.status == 413
    assert answer.consumed <= 4 * 2**20 + 2 * len(CHUNK)
    assert answer.headers["content-type"] == "application/problem+json"
