"""chaos — see docs/architecture.md."""
