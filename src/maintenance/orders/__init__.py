"""Work orders, PM plans, turnarounds, cost lines, failures and downtime."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.orders import audit_labels as audit_labels
