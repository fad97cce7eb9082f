"""Imports every domain's models so the metadata is complete (Alembic, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    import maintenance.assets.documents.models
    import maintenance.assets.models
    import maintenance.assets.stocktake.models
    import maintenance.audit.models
    import maintenance.budget.models
    import maintenance.export_jobs
    import maintenance.inspections.models
    import maintenance.leakfree.models
    import maintenance.monitoring.models
    import maintenance.monitoring.mqtt.models
    import maintenance.orders.models
    import maintenance.org.models
    import maintenance.scorecard.accidents.models
    import maintenance.scorecard.models
    import maintenance.scorecard.notifications.models
    import maintenance.scorecard.operating.models
    import maintenance.scorecard.projects.models
    import maintenance.scorecard.savings.models
    import maintenance.special.models  # noqa: F401
