"""Ids beyond the database's integer are refused before any query (issue 11): a record id in
PostgreSQL is a 32-bit integer (SQLite's is 64-bit), and a larger number sent to the database
overflowed its parameter, a 500. Every id a route takes, in its path or its query, and every id of
a list's filters, is bounded (``web.RecordId``): a path or form id beyond it is a 422 page, a
list filter beyond it is ignored as any bad filter value is.

Read from the route table and the filter models, so what is added later is checked too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Annotated

from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

from maintenance.main import create_app
from maintenance.org.models import User
from maintenance.web import MAX_RECORD_ID
from tests.conftest import fill, login, route_table

_ID_PARAM = re.compile(r"{(\w+_id)(?::int)?}")
TEXT_KEYS = {"object_id"}  # the change log keys any record by its key, as text
ID_PAGES = [
    path
    for method, path in route_table(create_app())
    if method == "GET" and not path.startswith("/api/") and set(_ID_PARAM.findall(path)) - TEXT_KEYS
]

# Integer parameters that are not ids: the pages clamp them to what exists.
CLAMPED = {
    "page": "a page past the last shows the last",
    "batch": "a labels batch past the last shows the last",
    "days": "a trend span not offered shows the default",
    "checks_page": "a page of the failed seal checks past the last shows the last",
    "n": "a leak row numbered past the rows a survey may have is the last of them",
}


def _maximum(annotation: object, metadata: list[object]) -> int | None:
    """The largest integer a parameter or field of this type accepts (None: unbounded, or no integer)."""
    schema = TypeAdapter(Annotated[annotation, *metadata] if metadata else annotation).json_schema()
    integers = [option for option in schema.get("anyOf", [schema]) if option.get("type") == "integer"]
    return min((option.get("maximum", math.inf) for option in integers), default=None)  # type: ignore[return-value]


def _route_parameters(dependant: Dependant) -> Iterator[ModelField]:
    yield from dependant.path_params
    yield from dependant.query_params
    for dependency in dependant.dependencies:
        yield from _route_parameters(dependency)


def test_every_integer_parameter_of_a_route_is_bounded_to_the_database_integer() -> None:
    """Read from the route table, so a route added later is checked too (issue 11, 4)."""
    unbounded = sorted(
        {
            f"{route.path} {parameter.name}"
            for route in iter_route_contexts(create_app().routes)
            if isinstance(route.original_route, APIRoute)
            for parameter in _route_parameters(route.original_route.dependant)
            if parameter.name not in CLAMPED
            and (_maximum(parameter.field_info.annotation, parameter.field_info.metadata) or 0) > MAX_RECORD_ID
        }
    )

    assert unbounded == []


def _filter_models() -> list[type[BaseModel]]:
    found, pending = [], [BaseModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__name__.endswith("Filters") and model.__module__.startswith("maintenance."):
            found.append(model)
    return found


def test_every_id_of_a_list_filter_is_bounded_to_the_database_integer() -> None:
    create_app()  # every domain's filters imported
    models = _filter_models()
    unbounded = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if (_maximum(field.annotation, field.metadata) or 0) > MAX_RECORD_ID
    ]

    assert {"AssetFilters", "OrderFilters", "PointFilters", "PlanFilters"} <= {model.__name__ for model in models}
    assert unbounded == []


def test_a_page_refuses_an_id_beyond_the_database_integer(client: TestClient, admin: User) -> None:
    """One beyond PostgreSQL's integer in any id of a page's path: a 422 page, not an overflow in
    the query (on PostgreSQL a 500; on SQLite a 404 after a query for nothing)."""
    login(client, admin)
    answers = {}
    for path in ID_PAGES:
        too_big = dict.fromkeys(set(_ID_PARAM.findall(path)) - TEXT_KEYS, MAX_RECORD_ID + 1)
        response = client.get(fill(path, too_big))
        answers[path] = (response.status_code, 'data-testid="error-page"' in response.text)

    assert {path: answer for path, answer in answers.items() if answer != (422, True)} == {}
    assert len(answers) > 20
