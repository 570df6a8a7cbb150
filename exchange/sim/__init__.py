"""The headless simulator: scenario files, the discrete-event runner, its outputs and report.

``carbonx simulate SCENARIO --seed N --out DIR`` runs one scenario (docs/scenarios.md).
"""
