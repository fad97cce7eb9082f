"""An engineer walks a round with no signal: the phone keeps each stop (a normal value, an alarm
value, a check) in its outbox marked "waiting to sync", a reload still without signal shows the
round from the service worker's copy with the stops still pending, and when the signal is back the
outbox syncs: the server holds each entry once and the alarm's CBM order once; sending the same
outbox again changes nothing.

RT-UTL-D is the demo's daily round of the utilities workshop (ligong's), which no other browser
test walks. Its points and their limits are read from the live server's database, and so is what
the sync stored. Service workers need a secure context: http://127.0.0.1 is one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import PHONE, log_in

ROUTE = "RT-UTL-D"
PENDING = re.compile("待同步|Waiting to sync")
SAVE = re.compile("保存|Save")
VALUE = re.compile("数值|Value")


@contextmanager
def database(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=10)) as connection:
        yield connection


def reading_stops(path: Path) -> list[tuple[str, float | None, float | None, bool]]:
    """(point code, warning high, alarm high, has an active alert) of the route's reading stops."""
    with database(path) as db:
        return [
            (code, warning, alarm, bool(active))
            for code, warning, alarm, active in db.execute(
                """
                SELECT p.code, p.warning_high, p.alarm_high,
                       EXISTS (SELECT 1 FROM condition_alert a
                               WHERE a.point_id = p.id AND a.state IN ('open', 'normal_again'))
                FROM route_stop s
                JOIN inspection_route r ON r.id = s.route_id
                JOIN measurement_point p ON p.id = s.point_id
                WHERE r.code = ? AND s.is_active AND p.warning_low IS NULL AND p.alarm_low IS NULL
                ORDER BY s.position
                """,
                (ROUTE,),
            )
        ]


def put_in_outbox(page: Page, item: dict[str, object]) -> None:
    """Put an entry in the phone's outbox as static/rounds.js keeps one (IndexedDB)."""
    page.evaluate(
        """(item) => new Promise((resolve, reject) => {
             const open = indexedDB.open("maintenance-rounds", 1);
             open.onupgradeneeded = () => open.result.createObjectStore("outbox", {keyPath: "client_id"});
             open.onsuccess = () => {
               const tx = open.result.transaction("outbox", "readwrite");
               tx.objectStore("outbox").put(item);
               tx.oncomplete = () => { open.result.close(); resolve(); };
               tx.onerror = () => reject(tx.error);
             };
           })""",
        item,
    )


def start_round(page: Page, base_url: str, username: str, route: str, workshop: str) -> int:
    """On a phone, log in and start the current round of the route from the board: the round's id."""
    page.set_viewport_size(PHONE)
    log_in(page, base_url, username)
    page.goto(f"{base_url}/rounds")
    page.locator(f"[data-testid='current-round'][data-route='{route}']").get_by_role(
        "button", name=re.compile("开始点检|Start round")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(workshop)
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def test_a_round_walked_without_signal_survives_a_reload_and_syncs_once(
    page: Page, context: BrowserContext, base_url: str, live_database: Path
) -> None:
    stops = reading_stops(live_database)
    alarm_code, _w, alarm_high, _a = next(s for s in stops if s[2] is not None and not s[3])
    normal_code, warning_high, _h, _n = next(s for s in stops if s[1] is not None and s[0] != alarm_code)
    assert alarm_high is not None
    assert warning_high is not None
    page.set_viewport_size(PHONE)
    log_in(page, base_url, "ligong")
    page.goto(f"{base_url}/rounds")
    card = page.locator(f"[data-testid='current-round'][data-route='{ROUTE}']")
    card.get_by_role("button", name=re.compile("开始点检|Start round")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("公用工程车间")
    round_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    # The service worker has kept this page (and the app shell) for a reload without signal.
    expect(page.locator("#round-page")).to_have_attribute("data-offline-ready", "true", timeout=15_000)

    context.set_offline(True)
    entered = {
        normal_code: f"{warning_high / 2:.1f}",
        alarm_code: f"{alarm_high * 1.5:.1f}",
    }
    for code, value in entered.items():
        stop = page.locator(f"[data-testid='stop'][data-stop='{code}']")
        stop.get_by_placeholder(VALUE).fill(value)
        stop.get_by_role("button", name=SAVE).click()
        expect(stop.get_by_test_id("stop-pending")).to_be_visible()
        expect(stop.get_by_text(re.compile("信号|No signal"))).to_be_visible()
    check = page.locator("[data-testid='stop'][data-stop='机封无泄漏']").first
    check.get_by_text(re.compile("^ ?(正常|OK)$")).click()
    check.get_by_role("button", name=SAVE).click()
    expect(check.get_by_test_id("stop-pending")).to_be_visible()
    panel = page.get_by_test_id("sync-panel")
    expect(panel.get_by_test_id("pending-count")).to_have_text("3")

    page.reload()  # still without signal: the service worker's copy, the outbox from IndexedDB
    expect(page.get_by_role("heading", level=1)).to_contain_text("公用工程车间")
    expect(page.get_by_test_id("sync-panel").get_by_test_id("pending-count")).to_have_text("3")
    for code, value in entered.items():
        stop = page.locator(f"[data-testid='stop'][data-stop='{code}']")
        expect(stop.get_by_placeholder(VALUE)).to_have_value(value)
        expect(stop.get_by_test_id("stop-pending")).to_be_visible()
        expect(stop).to_contain_text(code)  # the tag, name and limits are on the kept page
    expect(
        page.locator("[data-testid='stop'][data-stop='机封无泄漏']").first.get_by_test_id("stop-pending")
    ).to_be_visible()
    with database(live_database) as db:
        assert db.execute("SELECT count(*) FROM round_entry WHERE round_id = ?", (round_id,)).fetchone() == (0,)

    with page.expect_request(lambda request: request.url.endswith("/rounds/sync")) as sent:
        context.set_offline(False)  # the `online` event syncs the outbox
    outbox = json.loads(sent.value.post_data or "{}")
    assert len(outbox["entries"]) == 3
    results = page.get_by_test_id("sync-results")
    expect(results.locator("[data-outcome='synced']")).to_have_count(3)
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    expect(page.locator("[data-testid='stop'][data-entered='true']")).to_have_count(3)
    alarm = page.locator(f"[data-testid='stop'][data-stop='{alarm_code}']")
    expect(alarm.get_by_test_id("stop-result")).to_contain_text(re.compile("报警|Alarm"))
    expect(alarm.get_by_test_id("stop-order").get_by_role("link")).to_have_text(re.compile(r"WO-\d{4}-\d{6}"))

    def stored() -> tuple[list[tuple[str, int | None]], int]:
        with database(live_database) as db:
            entries = db.execute(
                "SELECT client_id, order_id FROM round_entry WHERE round_id = ? ORDER BY client_id", (round_id,)
            ).fetchall()
            orders = db.execute(
                """SELECT count(*) FROM work_order o JOIN condition_alert a ON a.order_id = o.id
                   JOIN measurement_point p ON p.id = a.point_id WHERE p.code = ? AND o.order_type = 'CBM'""",
                (alarm_code,),
            ).fetchone()[0]
        return entries, orders

    entries, orders = stored()
    assert sorted(client_id for client_id, _order in entries) == sorted(e["client_id"] for e in outbox["entries"])
    assert sum(1 for _client, order in entries if order is not None) == 1  # the alarm's entry
    assert orders == 1

    # The same outbox sent again (its answer lost on the way back): nothing new.
    token = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRF-Token"]
    replay = page.evaluate(
        """([body, token]) => fetch("/rounds/sync", {method: "POST", body: body,
             headers: {"Content-Type": "application/json", "X-CSRF-Token": token}}).then(r => r.json())""",
        [sent.value.post_data, token],
    )
    assert [result["outcome"] for result in replay["results"]] == ["already_synced"] * 3
    assert stored() == (entries, orders)
    page.get_by_test_id("sync-now").click()  # the outbox is empty: nothing to send
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    assert stored() == (entries, orders)


def test_an_entry_the_server_refuses_stays_listed_with_the_reason_until_dismissed(
    page: Page, base_url: str, live_database: Path
) -> None:
    """A phone whose clock was wrong kept a stop taken "in 2000": the sync refuses it and says why;
    the value stays visible (to copy) until the engineer dismisses it. RT-PWR-D (ligong's power
    plant round) is walked by no other browser test."""
    round_id = start_round(page, base_url, "ligong", "RT-PWR-D", "热电车间")
    stop = page.locator("[data-testid='stop'][data-stop='机封无泄漏']").first
    stop_id = int(stop.get_attribute("data-stop-id") or "0")
    user_id = page.locator("body").get_attribute("data-user-id")
    put_in_outbox(
        page,
        {
            "client_id": str(uuid.uuid4()),
            "user": user_id,
            "round_id": round_id,
            "stop_id": stop_id,
            "label": "机封无泄漏",
            "value": None,
            "result": "not_ok",
            "note": "机封滴油 2000",
            "taken_at": "2000-01-01T00:00:00Z",
            "status": "pending",
            "message": "",
        },
    )

    page.reload()  # the page load syncs the outbox
    refused = page.get_by_test_id("sync-results").locator("[data-outcome='refused']")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("机封滴油 2000")  # what was typed, to copy
    expect(refused).to_contain_text(re.compile("周期|period"))  # why
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    with database(live_database) as db:
        assert db.execute("SELECT count(*) FROM round_entry WHERE round_id = ?", (round_id,)).fetchone() == (0,)

    page.reload()  # still listed: it stays until dismissed
    expect(refused).to_have_count(1)
    refused.get_by_role("button", name=re.compile("知道了|Dismiss")).click()
    expect(refused).to_have_count(0)
    expect(page.get_by_test_id("sync-panel")).to_be_hidden()


OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("maintenance-rounds", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("outbox", {keyPath: "client_id"});
  open.onsuccess = () => {
    const request = open.result.transaction("outbox").objectStore("outbox").getAll();
    request.onsuccess = () => { open.result.close(); resolve(request.result); };
    request.onerror = () => reject(request.error);
  };
})"""


def test_a_stop_saved_after_the_session_expired_stays_in_the_outbox_and_syncs_after_login(
    page: Page, context: BrowserContext, base_url: str, live_database: Path
) -> None:
    """The session ran out while the engineer walked: the server's answer (a login redirect or a
    403 toast) saved nothing, so the stop stays in the outbox; logged in again, it syncs. RT-DIS-D
    (zhanggong's distillation round) is walked by no other browser test."""
    round_id = start_round(page, base_url, "zhanggong", "RT-DIS-D", "精馏车间")
    round_url = page.url
    stop = page.locator("[data-testid='stop'][data-stop='机封无泄漏']").first
    stop_id = int(stop.get_attribute("data-stop-id") or "0")

    context.clear_cookies()  # the session expired
    stop.get_by_text(re.compile("^ ?(正常|OK)$")).click()
    with page.expect_response(lambda response: response.request.method == "POST" and "/stops/" in response.url):
        stop.get_by_role("button", name=SAVE).click()
    page.wait_for_load_state()
    page.wait_for_timeout(500)  # whatever the answer did next (the login page, a toast)
    page.wait_for_load_state()
    kept = page.evaluate(OUTBOX)
    assert [(item["round_id"], item["stop_id"], item["status"]) for item in kept] == [(round_id, stop_id, "pending")]
    with database(live_database) as db:
        assert db.execute("SELECT count(*) FROM round_entry WHERE round_id = ?", (round_id,)).fetchone() == (0,)

    log_in(page, base_url, "zhanggong")
    page.goto(round_url)  # the page load syncs the outbox
    expect(page.get_by_test_id("sync-results").locator("[data-outcome='synced']")).to_have_count(1)
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    assert page.evaluate(OUTBOX) == []
    with database(live_database) as db:
        assert db.execute(
            "SELECT client_id FROM round_entry WHERE round_id = ? AND stop_id = ?", (round_id, stop_id)
        ).fetchall() == [(kept[0]["client_id"],)]


def test_the_offline_copies_and_the_outbox_are_the_logged_in_users_only(
    page: Page, context: BrowserContext, base_url: str
) -> None:
    """A shared phone: the rounds board is kept in this user's cache and shown offline only while
    the session would still be open; another user's stops left in the outbox stay on the phone
    (never shown or sent to this user) until their own user logs in again."""
    page.set_viewport_size(PHONE)
    log_in(page, base_url, "zhaogong")
    page.goto(f"{base_url}/rounds")
    expect(page.locator("#current-rounds")).to_have_attribute("data-offline-ready", "true", timeout=15_000)
    user_id = page.locator("body").get_attribute("data-user-id")
    for client_id, who in [("someone-elses-stop", "0"), ("my-refused-stop", user_id)]:
        put_in_outbox(
            page,
            {
                "client_id": client_id,
                "user": who,
                "round_id": 1,
                "stop_id": 1,
                "label": "x",
                "value": None,
                "result": "ok",
                "note": "",
                "taken_at": "2026-01-01T00:00:00Z",
                "status": "refused",
                "message": "x",
            },
        )

    page.reload()  # a page of this user: the other user's stop is kept, unsent, for its user
    expect(page.locator("#current-rounds")).to_have_attribute("data-offline-ready", "true", timeout=15_000)
    kept_entries = sorted(item["client_id"] for item in page.evaluate(OUTBOX))
    assert kept_entries == ["my-refused-stop", "someone-elses-stop"]
    kept = page.evaluate("() => caches.keys()")
    assert f"maintenance-rounds-v2-user-{user_id}" in kept
    assert [name for name in kept if "-user-" in name] == [f"maintenance-rounds-v2-user-{user_id}"]

    context.set_offline(True)
    page.reload()  # the kept copy, while the session is open
    expect(page.locator("#current-rounds")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-user-id", user_id or "")

    # The session ran out (as if 12 hours had passed): whoever holds the phone now gets no copy.
    page.evaluate(
        """() => caches.open("maintenance-rounds-v2-session").then(cache => cache.put("/__rounds-session",
             new Response(JSON.stringify({user: document.body.dataset.userId, until: Date.now() - 1000}))))"""
    )
    with pytest.raises(PlaywrightError):
        page.reload()
    expect(page.locator("#current-rounds")).to_have_count(0)
    context.set_offline(False)
