"""Condition monitoring: measurement points, readings, limits, alerts and the CBM orders they raise."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.monitoring import audit_labels as audit_labels
