"""The inspections part of the demo plant: inspection routes with their rounds, and the seasonal
campaigns."""
