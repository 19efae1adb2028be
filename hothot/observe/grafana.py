"""Grafana over its HTTP API with grafana-client: dashboard upload and fault annotations.

No Grafana server runs in hothot's CI; the tests check the calls against a local HTTP server
that records them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from grafana_client import GrafanaApi

from hothot.observe.dashboards import build_dashboard

log = logging.getLogger(__name__)

#: every annotation hothot posts carries this tag; the dashboard's annotation query selects it
TAG = "hothot"


def _api(url: str, token: str | None, timeout: float) -> GrafanaApi:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"Grafana URL must start with http:// or https://, got {url!r}")
    return GrafanaApi.from_url(url, credential=token or None, timeout=timeout)


def push_dashboards(
    url: str, token: str | None, *, folder_uid: str | None = None, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Create or overwrite hothot's dashboards in Grafana; returns Grafana's answers."""
    api = _api(url, token, timeout)
    body: dict[str, Any] = {
        "dashboard": build_dashboard(),
        "overwrite": True,
        "message": "hothot dashboards push",
    }
    if folder_uid:
        body["folderUid"] = folder_uid
    return [api.dashboard.update_dashboard(body)]


class GrafanaAnnotations:
    """Posts an annotation when a fault starts and closes it into a region when it heals.

    Grafana being unreachable must not stop a campaign, so failures are logged and counted
    (`failures`) instead of raised; the fault windows are in chaos.jsonl and the metrics anyway.
    """

    def __init__(
        self, url: str, token: str | None = None, *, campaign: str = "", timeout: float = 5.0
    ) -> None:
        self._api = _api(url, token, timeout)
        self.campaign = campaign
        self._open: dict[tuple[str, str], int] = {}
        self.failures = 0

    def fault(self, fault: str, target: str, active: bool) -> None:
        now_ms = int(time.time() * 1000)
        tags = [TAG, "fault", fault] + ([self.campaign] if self.campaign else [])
        try:
            if active:
                answer = self._api.annotations.add_annotation(
                    time_from=now_ms, tags=tags, text=f"{fault} on {target} started"
                )
                self._open[(fault, target)] = int(answer["id"])
                return
            annotation_id = self._open.pop((fault, target), None)
            if annotation_id is None:  # a heal without a start we posted: mark the instant
                self._api.annotations.add_annotation(
                    time_from=now_ms, tags=tags, text=f"{fault} on {target} healed"
                )
                return
            self._api.annotations.partial_update_annotation(
                annotation_id, time_to=now_ms, tags=tags, text=f"{fault} on {target}"
            )
        except Exception as err:  # any transport or API error is non-fatal here
            self.failures += 1
            log.warning("Grafana annotation for %s on %s failed: %s", fault, target, err)
