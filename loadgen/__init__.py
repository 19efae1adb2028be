"""loadgen — see docs/architecture.md."""
