"""Special equipment (特种设备): registrations, statutory inspections, regulator findings, coverage."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.special import audit_labels as audit_labels
