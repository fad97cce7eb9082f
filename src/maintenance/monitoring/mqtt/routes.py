"""The administrators' MQTT ingest page: each ingest's counts, lag and throughput, the mapping
rules (create, edit with a version check, delete after confirming; each change logged) and the
last refused messages with their reason. Under /admin beside the other plant-wide settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from maintenance.db import SessionDep, utcnow
from maintenance.exceptions import Conflict, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.monitoring.mqtt import service
from maintenance.monitoring.mqtt.models import MappingFields, MappingUpdate, MqttMapping
from maintenance.org.auth import AdminUser
from maintenance.web import (
    FormDep,
    RecordId,
    add_toast,
    conflict_response,
    differences,
    field_errors,
    form_values,
    redirect,
    render,
    validate_form,
)

router = APIRouter(include_in_schema=False)

PAGE = "/admin/mqtt"
REFUSALS_SHOWN = 50


@router.get(PAGE)
def mqtt_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    now = utcnow()
    return render(
        request,
        "monitoring/mqtt/page.html",
        {
            "stats": service.list_stats(session),
            "mappings": service.list_mappings(session),
            "refusals": service.recent_refusals(session, REFUSALS_SHOWN),
            "now": now,
            # A consumer stores its statistics at least every service.HEARTBEAT_SECONDS: older ones are of a
            # consumer that is not running (killed, or stopped without a word).
            "alive_since": now - timedelta(seconds=2 * service.HEARTBEAT_SECONDS),
        },
    )


def _form_page(
    request: Request,
    mapping: MqttMapping | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "monitoring/mqtt/form.html",
        {"mapping": mapping, "values": values, "errors": errors},
        status_code=status_code,
    )


@router.get(PAGE + "/mappings/new")
def new_mapping_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    defaults = MappingFields(topic="plant/{workshop}/{point}/reading").model_dump()
    defaults["position"] = 10 * (len(service.list_mappings(session)) + 1)
    return _form_page(request, None, defaults, {})


@router.post(PAGE + "/mappings/new")
def create_mapping(request: Request, session: SessionDep, admin: AdminUser, form: FormDep) -> Response:
    values = form_values(form)
    data, errors = validate_form(MappingFields, values)
    if data is not None:
        try:
            created = service.create_mapping(session, data, actor=admin)
        except ValidationFailed as error:
            errors = field_errors(error.errors)
        else:
            add_toast(request, _("Mapping rule %(topic)s added.", topic=created.topic))
            return redirect(request, PAGE)
    return _form_page(request, None, values, errors, status_code=422)


@router.get(PAGE + "/mappings/{mapping_id:int}")
def edit_mapping_page(request: Request, session: SessionDep, admin: AdminUser, mapping_id: RecordId) -> Response:
    mapping = service.get_mapping_or_raise(session, mapping_id)
    return _form_page(request, mapping, mapping.model_dump(), {})


@router.post(PAGE + "/mappings/{mapping_id:int}")
def update_mapping(
    request: Request, session: SessionDep, admin: AdminUser, mapping_id: RecordId, form: FormDep
) -> Response:
    mapping = service.get_mapping_or_raise(session, mapping_id)
    values = form_values(form)
    data, errors = validate_form(MappingUpdate, values)
    if data is not None:
        try:
            service.update_mapping(session, mapping, data, actor=admin)
        except Conflict:
            return conflict_response(
                request,
                heading=_("Someone else changed the mapping rule %(topic)s meanwhile.", topic=mapping.topic),
                changes=differences(mapping, data),
                audit=("mqtt_mapping", mapping.id),
                edit_url=f"{PAGE}/mappings/{mapping.id}",
                back=(PAGE, _("Back to MQTT ingest")),
            )
        except ValidationFailed as error:
            errors = field_errors(error.errors)
        else:
            add_toast(request, _("Mapping rule %(topic)s saved.", topic=mapping.topic))
            return redirect(request, PAGE)
    return _form_page(request, mapping, values, errors, status_code=422)


@router.post(PAGE + "/mappings/{mapping_id:int}/delete")
def delete_mapping(request: Request, session: SessionDep, admin: AdminUser, mapping_id: RecordId) -> Response:
    mapping = service.get_mapping_or_raise(session, mapping_id)
    service.delete_mapping(session, mapping, actor=admin)
    add_toast(request, _("Mapping rule %(topic)s deleted.", topic=mapping.topic))
    return redirect(request, PAGE)
