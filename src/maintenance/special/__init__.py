"""Special equipment (特种设备): registrations, statutory inspections, regulator findings, coverage."""
