"""Sites, workshops, units, users, roles and permissions."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.org import audit_labels as audit_labels
