"""The base of every list's filters (``web.ListFilters``): a blank query value is no filter, the
search text is trimmed, an unknown sort falls back to the list's default, and the filters go back
into URLs without their defaults."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

import pytest
from pydantic import Field, ValidationError
from starlette.requests import Request

from maintenance.web import ListFilters, RecordId, filters_from_query


class PumpFilters(ListFilters):
    """A list as the domains write one: its sort keys, a blank rule kept apart, a flag."""

    sort_keys: ClassVar[dict[str, str]] = {"tag": "tag", "value": "original_value_cny"}
    trimmed = frozenset({"q", "maker"})
    blank_kept = frozenset({"code"})

    q: str | None = Field(default=None, max_length=10)
    maker: str | None = None
    workshop_id: RecordId | None = None
    as_of: date | None = None
    code: str | None = None
    include_retired: bool = True
    sort: str = "-value"


def _from_query(query: str) -> PumpFilters:
    request = Request({"type": "http", "method": "GET", "headers": [], "query_string": query.encode()})
    return filters_from_query(PumpFilters)(request)


def test_a_blank_value_is_no_filter() -> None:
    filters = PumpFilters.model_validate({"workshop_id": "", "as_of": "", "q": "   ", "maker": " "})

    assert (filters.workshop_id, filters.as_of, filters.q, filters.maker) == (None, None, None, None)
    assert filters.query_params() == {}


def test_the_search_text_is_trimmed_before_its_length_is_checked() -> None:
    assert PumpFilters.model_validate({"q": "  P-101 "}).q == "P-101"
    assert PumpFilters.model_validate({"q": "  P-101-A-B  "}).q == "P-101-A-B"  # 9 characters once trimmed
    assert PumpFilters.model_validate({"maker": " KSB "}).maker == "KSB"


def test_a_field_the_subclass_keeps_blank_keeps_its_blank() -> None:
    assert PumpFilters.model_validate({"code": ""}).code == ""


def test_a_blank_flag_is_a_bad_value_that_the_list_drops() -> None:
    """A flag does not admit None: its blank fails validation (a query-model API answers 422), and
    the list page ignores it like any bad value, keeping the default."""
    with pytest.raises(ValidationError):
        PumpFilters.model_validate({"include_retired": ""})

    assert _from_query("include_retired=&workshop_id=7").model_dump() == {
        "q": None,
        "maker": None,
        "workshop_id": 7,
        "as_of": None,
        "code": None,
        "include_retired": True,
        "sort": "-value",
    }


@pytest.mark.parametrize(
    ("asked", "sorted_by"),
    [("tag", "tag"), ("-tag", "-tag"), ("value", "value"), ("colour", "-value"), ("-", "-value"), ("", "-value")],
)
def test_the_sort_is_one_of_the_list_s_keys_else_its_default(asked: str, sorted_by: str) -> None:
    assert PumpFilters.model_validate({"sort": asked}).sort == sorted_by


def test_the_query_params_leave_out_the_defaults_and_what_the_list_does_not_know() -> None:
    filters = _from_query("q=+pump+&workshop_id=3&as_of=2026-06-30&include_retired=false&sort=-value&page=2&export=csv")

    assert filters.query_params() == {
        "q": "pump",
        "workshop_id": "3",
        "as_of": "2026-06-30",
        "include_retired": "false",
    }
