"""A large asset import killed (-9) while its transaction is open: nothing of it is stored, the
change log is intact, and the same upload can be confirmed again after the restart."""

from __future__ import annotations

import re
import threading
from typing import Any

from tests.crash.conftest import Plant, wait_until
from tests.spreadsheet_files import xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows with long notes (each stored in the asset, its first version and its change-log row): the
# import's uncommitted pages outgrow SQLite's page cache (2 MB) and spill into the write-ahead log
# while it is still writing, long before its end.
ROWS = 400
NOTES = "出口管线法兰密封面检查，" * 166  # 1,992 characters: a note holds at most 2,000
TAGS_OF_THE_FILE = "SELECT count(*) FROM asset WHERE tag LIKE 'CR-%'"
_TOKEN_INPUT = re.compile(r'name="token" value="([0-9a-f]{64})"')


def register() -> bytes:
    header = ["位号", "设备名称", "设备类别", "车间", "原值(元)", "备注"]
    lines = [[f"CR-{n:05d}", "离心泵", "泵", "SYN", 10000 + n, NOTES] for n in range(1, ROWS + 1)]
    return xlsx_bytes([["2026年设备台账"], [], header, *lines], sheet="设备台账")


def test_an_import_killed_before_it_commits_leaves_nothing_and_can_be_confirmed_again(plant: Plant) -> None:
    server, watch = plant.server, plant.watch
    server.start()
    browser, csrf = plant.sign_in()
    preview = browser.post(
        "/assets/import/preview",
        data={"csrf_token": csrf},
        files={"file": ("台账.xlsx", register(), XLSX)},
    )
    assert preview.status_code == 200, preview.text
    match = _TOKEN_INPUT.search(preview.text)
    assert match, "the preview offers to import the file"
    confirm = {"csrf_token": csrf, "token": match.group(1), "mode": "all", "filename": "台账.xlsx"}
    changes_before = watch.scalar("SELECT count(*) FROM object_change")
    wal_before = watch.wal_size()
    answers: list[Any] = []

    def confirm_import() -> None:
        try:
            answers.append(browser.post("/assets/import/confirm", data=confirm))
        except Exception as error:  # the connection dies with the server
            answers.append(error)

    confirming = threading.Thread(target=confirm_import)
    confirming.start()
    if watch.postgres:
        wait_until(watch.write_transaction_open, "the import's transaction to write")
    else:
        wait_until(lambda: watch.wal_size() > wal_before, "the import's uncommitted pages to reach the -wal file")
    server.freeze()
    # Frozen mid-import: its transaction is open and has written, and none of it is committed.
    assert watch.write_transaction_open()
    assert watch.scalar(TAGS_OF_THE_FILE) == 0
    server.kill()
    confirming.join(timeout=30)
    assert len(answers) == 1
    assert isinstance(answers[0], Exception), f"the import was answered before the kill: {answers[0]}"

    server.start()
    assert watch.scalar(TAGS_OF_THE_FILE) == 0
    assert watch.scalar("SELECT count(*) FROM object_change") == changes_before
    assert watch.audit_chain_ok()
    browser, csrf = plant.sign_in()
    again = browser.post("/assets/import/confirm", data=confirm | {"csrf_token": csrf})
    assert again.status_code == 303, again.text
    assert again.headers["location"] == "/assets"
    assert watch.scalar(TAGS_OF_THE_FILE) == ROWS
    assert watch.rows("SELECT min(tag), max(tag), count(DISTINCT tag) FROM asset WHERE tag LIKE 'CR-%'") == [
        ("CR-00001", f"CR-{ROWS:05d}", ROWS)
    ]
    assert watch.audit_chain_ok()
