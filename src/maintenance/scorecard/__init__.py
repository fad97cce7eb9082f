"""The year's programme on one screen (the "12345" plan): the scorecard of every figure with its
target and state, the savings ledgers, the accident register, the key projects, the operating log
and the workshops' monthly assessment (考核); and what each user is notified of (``notifications``).
It reads every other domain and none imports it."""

# Registers this domain's names in the change log whenever any part of the domain is imported.
from maintenance.scorecard import audit_labels as audit_labels
