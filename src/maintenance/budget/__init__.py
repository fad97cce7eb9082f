"""Repair-cost budget (检修费用预算): the year's target against the prior years' baseline, its
allocation by workshop × category × month, and plan against actual, committed and forecast."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.budget import audit_labels as audit_labels
