"""The work-order part of the demo plant: a year of maintenance history."""
