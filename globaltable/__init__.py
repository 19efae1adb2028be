"""globaltable — see docs/architecture.md."""
