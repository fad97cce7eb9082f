"""Condition monitoring: measurement points, readings, limits, alerts and the CBM orders they raise."""
