"""Inspections: routes and the rounds walked on them, and seasonal campaigns (they read monitoring's
points and raise orders)."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.inspections import audit_labels as audit_labels
