"""Leak-free plant (无泄漏创建): seal-point inventories, leak surveys, leak rates and workshop certification."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.leakfree import audit_labels as audit_labels
