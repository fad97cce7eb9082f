"""Recording an item's register: registration (with change and cancellation), applications and
inspection reports with their PDF. Dates are fixed: "today" is 10 March 2026. Messages are
checked in Chinese, the plant's default language."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.assets.choices import SpecialCategory
from maintenance.assets.documents.models import AssetDocument
from maintenance.audit.models import ObjectChange
from maintenance.exceptions import Conflict, PermissionDenied, ValidationFailed
from maintenance.org.models import User
from maintenance.special import records
from maintenance.special.choices import InspectionResult, RegistrationEventKind
from maintenance.special.models import InspectionCreate, InspectionType, RegistrationCreate, RegistrationUpdate
from tests import factories
from tests.special.conftest import MakeItem, Report

TODAY = date(2026, 3, 10)
PDF = b"%PDF-1.4\n% inspection report\n"
TypeByCode = Callable[[str], InspectionType]


def registration_data(**fields: object) -> RegistrationCreate:
    values: dict[str, object] = {
        "certificate_number": "容1PA苏E00123(22)",
        "registration_date": date(2022, 7, 1),
        "authority": "市市场监督管理局",
    } | fields
    return RegistrationCreate.model_validate(values)


def inspection_data(inspection_type: InspectionType, **fields: object) -> InspectionCreate:
    values: dict[str, object] = {
        "inspection_type_id": inspection_type.id,
        "inspected_date": date(2026, 3, 2),
        "agency": "市特检院",
        "result": InspectionResult.PASS,
    } | fields
    return InspectionCreate.model_validate(values)


def changes_of(session: Session, object_type: str) -> int:
    return session.scalar(select(func.count()).where(ObjectChange.object_type == object_type)) or 0


# --- Registration ----------------------------------------------------------------------------


def test_an_engineer_registers_an_item_of_their_workshop_once(
    session: Session, make_item: MakeItem, workshop_engineer: User
) -> None:
    asset = make_item()
    registration = records.register_asset(session, asset, registration_data(), actor=workshop_engineer, today=TODAY)

    assert registration.asset_id == asset.id
    assert registration.certificate_number == "容1PA苏E00123(22)"
    assert changes_of(session, "special_registration") == 1
    with pytest.raises(ValidationFailed, match="容1PA苏E00123"):
        records.register_asset(
            session, asset, registration_data(certificate_number="X-2"), actor=workshop_engineer, today=TODAY
        )


def test_an_asset_that_is_not_special_equipment_is_refused_with_a_reason(
    session: Session, make_item: MakeItem, manager: User
) -> None:
    pump = make_item(special_category=SpecialCategory.NONE, tag="P-101")

    with pytest.raises(ValidationFailed, match="P-101 不是特种设备"):
        records.register_asset(session, pump, registration_data(), actor=manager, today=TODAY)


def test_an_engineer_of_another_workshop_may_not_record(session: Session, make_item: MakeItem) -> None:
    other = factories.UserFactory(role="engineer")

    with pytest.raises(PermissionDenied):
        records.register_asset(session, make_item(), registration_data(), actor=other, today=TODAY)


def test_a_future_registration_date_is_refused(session: Session, make_item: MakeItem, manager: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        records.register_asset(
            session, make_item(), registration_data(registration_date=date(2026, 3, 11)), actor=manager, today=TODAY
        )
    assert [e.field for e in refused.value.errors] == ["registration_date"]


def test_a_stale_edit_of_the_registration_is_a_conflict(session: Session, make_item: MakeItem, manager: User) -> None:
    asset = make_item()
    registration = records.register_asset(session, asset, registration_data(), actor=manager, today=TODAY)
    shown = registration.version
    first = RegistrationUpdate.model_validate(registration_data(authority="省局").model_dump() | {"version": shown})
    records.update_registration(session, asset, registration, first, actor=manager, today=TODAY)

    assert registration.version == shown + 1
    late = RegistrationUpdate.model_validate(registration_data(authority="市局").model_dump() | {"version": shown})
    with pytest.raises(Conflict):
        records.update_registration(session, asset, registration, late, actor=manager, today=TODAY)
    assert registration.authority == "省局"


def test_a_cancellation_ends_the_registration(session: Session, make_item: MakeItem, manager: User) -> None:
    asset = make_item()
    registration = records.register_asset(session, asset, registration_data(), actor=manager, today=TODAY)
    change = records.RegistrationEventCreate(
        kind=RegistrationEventKind.CHANGE, event_date=date(2024, 5, 6), description="使用单位名称变更"
    )
    records.record_registration_event(session, asset, registration, change, actor=manager, today=TODAY)
    assert registration.cancelled_date is None

    cancellation = records.RegistrationEventCreate(
        kind=RegistrationEventKind.CANCELLATION, event_date=date(2026, 2, 1), description="设备报废"
    )
    records.record_registration_event(session, asset, registration, cancellation, actor=manager, today=TODAY)

    assert registration.cancelled_date == date(2026, 2, 1)
    assert changes_of(session, "special_registration_event") == 2
    update = RegistrationUpdate.model_validate(registration_data().model_dump() | {"version": registration.version})
    with pytest.raises(ValidationFailed, match="已于 2026-02-01 注销"):
        records.update_registration(session, asset, registration, update, actor=manager, today=TODAY)
    with pytest.raises(ValidationFailed, match="已于 2026-02-01 注销"):
        records.record_registration_event(session, asset, registration, change, actor=manager, today=TODAY)


# --- Applications ------------------------------------------------------------------------------


def test_an_application_is_for_the_current_due_date_once(
    session: Session, make_item: MakeItem, report: Report, inspection_type: TypeByCode, workshop_engineer: User
) -> None:
    asset = make_item()
    report(asset, "PV-ANNUAL", date(2025, 6, 1))  # the next annual check is due on 2026-06-01
    form = records.ApplicationForm(
        inspection_type_id=inspection_type("PV-ANNUAL").id,  # type: ignore[arg-type]
        applied_date=date(2026, 3, 1),
        agency="市特检院",
        reference="SQ-2026-031",
    )

    application = records.record_application(session, asset, form, actor=workshop_engineer, today=TODAY)

    assert application.due_date == date(2026, 6, 1)
    assert changes_of(session, "special_application") == 1
    again = form.model_copy(update={"applied_date": date(2026, 3, 5)})
    with pytest.raises(ValidationFailed, match="已于 2026-03-01 报检"):
        records.record_application(session, asset, again, actor=workshop_engineer, today=TODAY)


def test_an_application_dated_in_the_future_or_before_the_last_inspection_is_refused(
    session: Session, make_item: MakeItem, report: Report, inspection_type: TypeByCode, manager: User
) -> None:
    asset = make_item()
    report(asset, "PV-ANNUAL", date(2025, 6, 1))
    form = records.ApplicationForm(
        inspection_type_id=inspection_type("PV-ANNUAL").id,  # type: ignore[arg-type]
        applied_date=date(2026, 3, 11),
        agency="市特检院",
    )

    with pytest.raises(ValidationFailed) as future:
        records.record_application(session, asset, form, actor=manager, today=TODAY)
    with pytest.raises(ValidationFailed) as early:
        records.record_application(
            session, asset, form.model_copy(update={"applied_date": date(2025, 5, 30)}), actor=manager, today=TODAY
        )

    assert [e.field for e in future.value.errors] == ["applied_date"]
    assert [e.message for e in early.value.errors] == ["必须晚于 2025-06-01。"]


# --- Inspections -------------------------------------------------------------------------------


def test_an_inspection_of_a_type_of_another_category_is_refused(
    session: Session, make_item: MakeItem, inspection_type: TypeByCode, manager: User
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        records.record_inspection(
            session, make_item(), inspection_data(inspection_type("SV-CALIBRATION")), actor=manager, today=TODAY
        )
    assert [e.field for e in refused.value.errors] == ["inspection_type_id"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"inspected_date": date(2026, 3, 11)}, "inspected_date"),
        ({"report_next_due_date": date(2026, 3, 2)}, "report_next_due_date"),
    ],
    ids=["inspected tomorrow", "next due on the inspection day"],
)
def test_impossible_inspection_dates_are_refused(
    session: Session,
    make_item: MakeItem,
    inspection_type: TypeByCode,
    manager: User,
    fields: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        records.record_inspection(
            session, make_item(), inspection_data(inspection_type("PV-ANNUAL"), **fields), actor=manager, today=TODAY
        )
    assert [e.field for e in refused.value.errors] == [field]


def test_the_report_pdf_is_kept_with_the_asset_documents_and_linked(
    session: Session, make_item: MakeItem, inspection_type: TypeByCode, workshop_engineer: User
) -> None:
    asset = make_item()
    inspection = records.record_inspection(
        session,
        asset,
        inspection_data(inspection_type("PV-PERIODIC"), safety_grade=2, report_number="RQ-2026-0088"),
        actor=workshop_engineer,
        today=TODAY,
        report_file=records.ReportFile(io.BytesIO(PDF), "定期检验报告.pdf"),
    )

    document = session.get(AssetDocument, inspection.document_id)
    assert document is not None
    assert (document.asset_id, document.filename, document.content_type) == (
        asset.id,
        "定期检验报告.pdf",
        "application/pdf",
    )
    assert document.size_bytes == len(PDF)
    assert changes_of(session, "special_inspection") == 1


def test_a_report_that_is_not_a_pdf_is_refused(
    session: Session, make_item: MakeItem, inspection_type: TypeByCode, manager: User
) -> None:
    with pytest.raises(ValidationFailed, match="必须是 PDF"):
        records.record_inspection(
            session,
            make_item(),
            inspection_data(inspection_type("PV-ANNUAL")),
            actor=manager,
            today=TODAY,
            report_file=records.ReportFile(io.BytesIO(b"notes"), "report.txt"),
        )
    assert session.scalar(select(func.count()).select_from(AssetDocument)) == 0
