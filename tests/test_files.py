"""The content-addressed file store's own rules (uploads through it are tested with their owners:
asset documents, order attachments, round photos)."""

from __future__ import annotations

from maintenance import files


def test_file_names_lose_directories_and_control_characters() -> None:
    assert files.clean_filename("C:\\Users\\x\\图纸.dwg") == "图纸.dwg"
    assert files.clean_filename("../../etc/passwd.txt") == "passwd.txt"
    assert files.clean_filename("a\x00b\r\n.pdf") == "ab.pdf"
    assert files.clean_filename("..hidden.pdf") == "hidden.pdf"
    long = files.clean_filename("长" * 300 + ".pdf")
    assert len(long) == 200
    assert long.endswith(".pdf")
