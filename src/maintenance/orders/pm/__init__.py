"""Planned maintenance: PM plans with their estimates, and the scheduler that raises their orders
ahead of the due date."""
