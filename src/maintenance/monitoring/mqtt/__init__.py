"""Sensors over MQTT: topic/payload mapping rules, the consumer that stores readings through the
one ingest, its statistics and refused messages, and the administrators' page."""

# Registers the mapping rules' names in the change log whenever the package is imported.
from maintenance.monitoring.mqtt import audit_labels as audit_labels
