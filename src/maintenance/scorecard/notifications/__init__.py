"""Notifications: what each user hears about (alarms, orders, special equipment, budget), the
in-app notification centre and a manager's "awaiting my approval" queue. Like the scorecard it
is a view across the plant: it reads the other domains and none imports it, which design.md §2
allows the scorecard alone, so it lives here as the scorecard's subpackage."""

from __future__ import annotations

from maintenance.scorecard.notifications import audit_labels as audit_labels
