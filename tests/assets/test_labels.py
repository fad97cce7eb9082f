"""QR label sheets: one printable A4 page per 24 labels for the assets of a filtered list,
each QR code holding the absolute URL of the asset's page; a request prints at most a cap."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets import labels
from maintenance.org.models import User
from tests import factories
from tests.assets.qr_codes import decode_qr_data_uri
from tests.conftest import login

EN = {"Accept-Language": "en"}


def _labels(page: str) -> list[tuple[str, str]]:
    """(QR data URI, URL it was made from) of every label on the sheet."""
    return re.findall(r'<img class="asset-label-qr" src="([^"]+)" alt="[^"]*" data-url="([^"]+)"', page)


def _scanned(page: str) -> dict[str, str]:
    """What a phone reads from the QR code of each label, by the tag printed beside it."""
    return {
        tag: decode_qr_data_uri(qr)
        for qr, tag in re.findall(
            r'<img class="asset-label-qr" src="([^"]+)".*?<div class="asset-label-tag">([^<]*)</div>', page, re.S
        )
    }


def test_the_sheet_has_a_qr_code_with_the_asset_url_for_each_filtered_asset(
    client: TestClient, session: Session, engineer: User
) -> None:
    workshop = factories.WorkshopFactory(name="聚合车间")
    pump = factories.AssetFactory(tag="P-101", name="循环水泵", workshop_id=workshop.id, fixed_asset_number="FA-9")
    vessel = factories.AssetFactory(tag="V-201", name="缓冲罐", workshop_id=workshop.id)
    elsewhere = factories.AssetFactory(tag="T-301", name="储罐")
    login(client, engineer)

    response = client.get("/assets/labels", params={"workshop_id": workshop.id})

    assert response.status_code == 200  # not swallowed by /assets/{asset_id}
    page = response.text
    found = _labels(page)
    assert [url for _, url in found] == [f"http://testserver/assets/{pump.id}", f"http://testserver/assets/{vessel.id}"]
    assert _scanned(page) == {
        "P-101": f"http://testserver/assets/{pump.id}",
        "V-201": f"http://testserver/assets/{vessel.id}",
    }
    assert "P-101" in page
    assert "循环水泵" in page
    assert "聚合车间" in page
    assert "FA-9" in page
    assert "T-301" not in page
    assert str(elsewhere.id) not in [url.rsplit("/", 1)[1] for _, url in found]
    assert 'href="/static/print.css"' in page
    assert " style=" not in page
    assert "<script>" not in page


def test_the_qr_code_opens_the_asset_page(client: TestClient, session: Session, engineer: User) -> None:
    asset = factories.AssetFactory(tag="P-7", name="泵")
    login(client, engineer)
    [(tag, url)] = _scanned(client.get("/assets/labels", params={"q": "P-7"}).text).items()
    assert tag == "P-7"
    assert client.get(url).status_code == 200
    assert "P-7" in client.get(url).text
    assert url.endswith(f"/assets/{asset.id}")


def test_a_sheet_request_is_capped_with_a_clear_message_and_batches(
    client: TestClient, session: Session, engineer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(labels, "MAX_LABELS", 2)
    workshop = factories.WorkshopFactory()
    for tag in ("A-1", "A-2", "A-3"):
        factories.AssetFactory(tag=tag, workshop_id=workshop.id)
    login(client, engineer)

    first = client.get("/assets/labels", params={"workshop_id": workshop.id}, headers=EN).text
    assert len(_labels(first)) == 2
    assert 'data-testid="label-cap"' in first
    assert "at most 2 labels" in first
    assert "batch 1 of 2" in first
    assert "3 assets match the filter" in first

    second = client.get("/assets/labels", params={"workshop_id": workshop.id, "batch": 2}, headers=EN).text
    assert len(_labels(second)) == 1
    assert "A-3" in second


def test_an_empty_selection_says_so(client: TestClient, engineer: User) -> None:
    login(client, engineer)
    response = client.get("/assets/labels", params={"q": "no-such-tag"}, headers=EN)
    assert response.status_code == 200
    assert "No assets match the filter." in response.text
    assert _labels(response.text) == []


def test_labels_are_split_into_a4_pages_of_24(client: TestClient, session: Session, engineer: User) -> None:
    workshop = factories.WorkshopFactory()
    for n in range(25):
        factories.AssetFactory(tag=f"L-{n:02d}", workshop_id=workshop.id)
    login(client, engineer)
    page = client.get("/assets/labels", params={"workshop_id": workshop.id}).text
    assert page.count('<section class="label-sheet"') == 2
    assert len(_labels(page)) == 25
