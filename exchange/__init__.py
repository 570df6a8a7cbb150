"""The shell around the pure domain packages: runtime, API, persistence, clock, CLI."""
