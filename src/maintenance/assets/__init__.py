"""The asset registry, depreciation, labels, documents and stocktakes."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.assets import audit_labels as audit_labels
