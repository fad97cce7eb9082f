"""Notifications: what each user hears about (alarms, orders, special equipment, budget), the
in-app notification centre and a manager's "awaiting my approval" queue. It reads the other
domains and no domain imports it (design.md §2)."""

from __future__ import annotations

from maintenance.notifications import audit_labels as audit_labels
