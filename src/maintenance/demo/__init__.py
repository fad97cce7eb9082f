"""The demo plant (`maintenance seed --demo`): one builder per domain, each reading its part of
``seed/``, and :mod:`maintenance.demo.plant` that loads them in dependency order. Only the entry
points (the CLI, the test and bench tools) import it; no domain does."""
