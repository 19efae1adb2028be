"""verdict — see docs/architecture.md."""
