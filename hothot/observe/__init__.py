"""Live observability outside the runner's hot path: dashboards as code, Grafana, Pushgateway.

The metrics themselves live in `loadgen.metrics` (the master serves them); this package holds
what the CLI and the runner hand to Grafana and the Pushgateway.
"""
