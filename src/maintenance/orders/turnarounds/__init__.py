"""Turnarounds (大修): the overhaul, its scope of orders, budget and schedule."""
