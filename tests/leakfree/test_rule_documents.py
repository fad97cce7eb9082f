"""The management rules register: which version is current, superseded or upcoming on a date,
recording a version with its file (who may, what files, no duplicate version), the download and
the export, through the served app."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.leakfree import rule_documents
from maintenance.leakfree.choices import RuleDocumentKind
from maintenance.leakfree.models import RuleDocument
from maintenance.org.models import User
from tests.conftest import login

LIST = "/leakfree/rules"
PDF = b"%PDF-1.4\n% rule text\n%%EOF\n"


@pytest.fixture
def add_version(session: Session) -> Any:
    """A version of a rule written straight into the table (its file is not needed here)."""

    def add(code: str, version_label: str, effective: date, **fields: Any) -> RuleDocument:
        values: dict[str, Any] = {
            "kind": RuleDocumentKind.LEAK_FREE,
            "code": code,
            "title": "无泄漏创建管理办法",
            "version_label": version_label,
            "effective_date": effective,
            "file_sha256": "0" * 64,
            "filename": f"{code}-{version_label}.pdf",
            "content_type": "application/pdf",
        } | fields
        document = RuleDocument(**values)
        session.add(document)
        session.flush()
        return document

    return add


@pytest.fixture
def three_versions(add_version: Any) -> dict[str, RuleDocument]:
    """SB-ZD-012 in 2024, 2025 and 2026 versions (the last effective 1 July 2026), and a rule
    whose only version takes effect on 1 September 2026."""
    return {
        "2024": add_version("SB-ZD-012", "2024版", date(2024, 1, 1)),
        "2025": add_version("SB-ZD-012", "2025版", date(2025, 3, 1)),
        "2026": add_version("SB-ZD-012", "2026版", date(2026, 7, 1)),
        "new": add_version("SB-ZD-020", "A/0", date(2026, 9, 1), title="设备管理制度", kind=RuleDocumentKind.EQUIPMENT),
    }


def _changes(session: Session, object_type: str = "rule_document") -> int:
    return (
        session.scalar(select(func.count()).select_from(ObjectChange).where(ObjectChange.object_type == object_type))
        or 0
    )


def _documents(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RuleDocument)) or 0


def _form(**fields: str) -> dict[str, str]:
    return {
        "kind": "leak_free",
        "code": "SB-ZD-012",
        "title": "无泄漏创建管理办法",
        "version_label": "2026版",
        "effective_date": "2026-07-01",
        "note": "替代2025版",
    } | fields


def _row(html: str, code: str) -> str:
    match = re.search(rf'<tr data-rule-code="{re.escape(code)}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {code}"
    return match.group(1)


def _labels(row: str, testid: str) -> list[str]:
    """The version labels of the row's elements marked ``testid``, in page order."""
    return re.findall(rf'data-testid="{testid}" data-version="([^"]*)"', row)


# --- The register on a date ------------------------------------------------------------------


def test_on_the_day_before_the_new_version_the_old_one_is_current(
    session: Session, three_versions: dict[str, RuleDocument]
) -> None:
    entries = rule_documents.register(session, date(2026, 6, 30))

    assert [entry.code for entry in entries] == ["SB-ZD-012", "SB-ZD-020"]
    rule, upcoming_only = entries
    assert rule.current is three_versions["2025"]
    assert rule.superseded == [three_versions["2024"]]
    assert rule.upcoming == [three_versions["2026"]]
    assert upcoming_only.current is None
    assert upcoming_only.upcoming == [three_versions["new"]]
    assert upcoming_only.shown is three_versions["new"]


def test_on_its_effective_date_the_new_version_supersedes_both_older_ones(
    session: Session, three_versions: dict[str, RuleDocument]
) -> None:
    rule = rule_documents.register(session, date(2026, 7, 1))[0]

    assert rule.current is three_versions["2026"]
    assert rule.superseded == [three_versions["2025"], three_versions["2024"]]  # latest first
    assert rule.upcoming == []


def test_two_versions_effective_the_same_day_the_later_recorded_is_current(session: Session, add_version: Any) -> None:
    first = add_version("SB-ZD-030", "A/1", date(2026, 1, 1))
    second = add_version("SB-ZD-030", "A/2", date(2026, 1, 1))

    rule = rule_documents.register(session, date(2026, 1, 1))[0]

    assert (rule.current, rule.superseded) == (second, [first])


def test_an_auditor_reads_the_register_as_of_a_date(
    client: TestClient, auditor: User, three_versions: dict[str, RuleDocument]
) -> None:
    login(client, auditor)

    response = client.get(f"{LIST}?as_of=2026-06-30")

    assert response.status_code == 200
    rule = _row(response.text, "SB-ZD-012")
    assert _labels(rule, "current-version") == ["2025版"]
    assert _labels(rule, "upcoming-version") == ["2026版"]
    assert _labels(rule, "superseded-version") == ["2024版"]
    assert "<details" in rule  # superseded versions are folded
    assert f'href="{LIST}/{three_versions["2025"].id}/file"' in rule
    assert _labels(_row(response.text, "SB-ZD-020"), "upcoming-version") == ["A/0"]
    assert 'href="/leakfree/rules/new"' not in response.text  # auditors record nothing

    later = client.get(f"{LIST}?as_of=2026-07-01", headers={"HX-Request": "true"})

    assert later.status_code == 200
    assert "<html" not in later.text  # the fragment
    rule = _row(later.text, "SB-ZD-012")
    assert _labels(rule, "current-version") == ["2026版"]
    assert _labels(rule, "superseded-version") == ["2025版", "2024版"]
    assert _labels(rule, "upcoming-version") == []


def test_the_register_filters_by_kind(
    client: TestClient, manager: User, three_versions: dict[str, RuleDocument]
) -> None:
    login(client, manager)

    response = client.get(f"{LIST}?kind=equipment&as_of=2026-06-30")

    assert 'data-rule-code="SB-ZD-020"' in response.text
    assert 'data-rule-code="SB-ZD-012"' not in response.text
    assert 'data-rule-code="SB-ZD-012"' in client.get(f"{LIST}?kind=nonsense&as_of=2026-06-30").text  # ignored


def test_the_export_marks_each_version_on_the_date(
    client: TestClient, manager: User, three_versions: dict[str, RuleDocument]
) -> None:
    login(client, manager)
    client.cookies.set("lang", "en")

    response = client.get(f"{LIST}?as_of=2026-06-30&export=csv")

    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 5  # the header and four versions
    standings = {tuple(line.split(",")[3:4] + line.split(",")[5:6]) for line in lines[1:]}
    assert standings == {("2024版", "Superseded"), ("2025版", "Current"), ("2026版", "Upcoming"), ("A/0", "Upcoming")}
    assert client.get(f"{LIST}?export=xlsx").content[:2] == b"PK"


def test_the_register_runs_a_fixed_number_of_queries(
    client: TestClient, manager: User, add_version: Any, count_queries: list[str]
) -> None:
    def queries() -> int:
        count_queries.clear()
        assert client.get(f"{LIST}?as_of=2026-06-30").status_code == 200
        return len(count_queries)

    login(client, manager)
    add_version("R-1", "A", date(2025, 1, 1))
    few = queries()
    for number in range(2, 8):
        add_version(f"R-{number}", "A", date(2025, 1, 1))
        add_version(f"R-{number}", "B", date(2026, 1, 1))
    many = queries()

    assert many == few


# --- Recording a version ------------------------------------------------------------------------


def test_a_manager_records_a_version_and_anyone_downloads_its_file(
    client: TestClient, session: Session, manager: User, auditor: User
) -> None:
    token = login(client, manager)

    response = client.post(
        f"{LIST}/new",
        data=_form() | {"csrf_token": token},
        files={"file": ("无泄漏创建管理办法2026版.pdf", io.BytesIO(PDF), "application/octet-stream")},
    )

    assert response.status_code == 303
    document = session.scalars(select(RuleDocument)).one()
    assert (document.code, document.version_label, document.effective_date) == ("SB-ZD-012", "2026版", date(2026, 7, 1))
    assert (document.filename, document.content_type) == ("无泄漏创建管理办法2026版.pdf", "application/pdf")
    assert document.uploaded_by_id == manager.id
    assert _changes(session) == 1

    client.cookies.clear()
    login(client, auditor)
    download = client.get(f"{LIST}/{document.id}/file")

    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    assert "%E6%97%A0%E6%B3%84%E6%BC%8F" in download.headers["content-disposition"]  # 无泄漏, UTF-8 encoded


def test_a_word_document_is_accepted_with_its_type(client: TestClient, session: Session, manager: User) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    token = login(client, manager)

    response = client.post(
        f"{LIST}/new",
        data=_form() | {"csrf_token": token},
        files={"file": ("办法.docx", io.BytesIO(buffer.getvalue()), "application/octet-stream")},
    )

    assert response.status_code == 303
    document = session.scalars(select(RuleDocument)).one()
    assert document.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("fields", "upload", "field", "message"),
    [
        ({}, ("photo.png", b"\x89PNG\r\n\x1a\n....", "image/png"), "file", "must be PDF, DOCX or XLSX"),
        ({}, ("办法.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"), "file", "does not look like a PDF file"),
        ({}, ("办法.pdf", b"", "application/pdf"), "file", "is empty"),
        ({}, None, "file", "Choose the rule&#39;s file"),
        ({"title": ""}, ("办法.pdf", PDF, "application/pdf"), "title", "This field is required."),
        ({"effective_date": "2026-02-30"}, ("办法.pdf", PDF, "application/pdf"), "effective_date", ""),
        ({"kind": "nonsense"}, ("办法.pdf", PDF, "application/pdf"), "kind", "Choose one of the listed options."),
    ],
)
def test_a_refused_version_shows_why_on_a_422_page_and_writes_nothing(
    client: TestClient,
    session: Session,
    manager: User,
    fields: dict[str, str],
    upload: tuple[str, bytes, str] | None,
    field: str,
    message: str,
) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    files = {"file": (upload[0], io.BytesIO(upload[1]), upload[2])} if upload else None

    response = client.post(f"{LIST}/new", data=_form(**fields) | {"csrf_token": token}, files=files)

    assert response.status_code == 422
    assert message in response.text
    assert re.search(rf'id="f-{field}"[^>]*>', response.text)
    assert f'class="form-{"select" if field == "kind" else "control"} is-invalid" id="f-{field}"' in response.text
    assert (_documents(session), _changes(session)) == (0, 0)


def test_the_same_version_of_a_rule_twice_is_refused(client: TestClient, session: Session, manager: User) -> None:
    token = login(client, manager)
    client.cookies.set("lang", "en")
    upload = {"file": ("办法.pdf", io.BytesIO(PDF), "application/pdf")}
    assert client.post(f"{LIST}/new", data=_form() | {"csrf_token": token}, files=upload).status_code == 303

    again = client.post(
        f"{LIST}/new",
        data=_form(title="改名", effective_date="2026-08-01") | {"csrf_token": token},
        files={"file": ("办法2.pdf", io.BytesIO(PDF + b"x"), "application/pdf")},
    )

    assert again.status_code == 422
    assert "Version 2026版 of SB-ZD-012 is already in the register." in again.text
    assert 'is-invalid" id="f-version_label"' in again.text
    assert (_documents(session), _changes(session)) == (1, 1)
    other_version = client.post(
        f"{LIST}/new",
        data=_form(version_label="2027版") | {"csrf_token": token},
        files={"file": ("办法.pdf", io.BytesIO(PDF), "application/pdf")},
    )
    assert other_version.status_code == 303


@pytest.mark.parametrize("role", ["workshop_engineer", "auditor"])
def test_engineers_and_auditors_may_not_record_a_rule(
    client: TestClient, session: Session, request: pytest.FixtureRequest, role: str
) -> None:
    user: User = request.getfixturevalue(role)
    token = login(client, user)

    assert client.get(f"{LIST}/new").status_code == 403
    response = client.post(
        f"{LIST}/new",
        data=_form() | {"csrf_token": token},
        files={"file": ("办法.pdf", io.BytesIO(PDF), "application/pdf")},
    )
    assert response.status_code == 403
    assert _documents(session) == 0
    assert client.get(LIST).status_code == 200  # they read the register


def test_the_form_is_offered_to_managers(client: TestClient, manager: User) -> None:
    login(client, manager)

    page = client.get(f"{LIST}/new")

    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'accept=".pdf,.docx,.xlsx"' in page.text
    assert 'href="/leakfree/rules/new"' in client.get(LIST).text


def test_a_missing_rule_file_is_404(client: TestClient, manager: User) -> None:
    login(client, manager)

    assert client.get(f"{LIST}/999999/file").status_code == 404
    assert client.get(f"{LIST}/0/file").status_code in (404, 422)
