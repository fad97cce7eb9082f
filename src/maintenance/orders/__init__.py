"""Work orders, PM plans, turnarounds, cost lines, failures and downtime."""
