"""Maintenance KPIs: the order mix, backlog, reliability and cost measures, and their charts."""
