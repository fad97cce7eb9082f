"""The demo plant's programme: savings, accidents, projects and a year of operating log."""
