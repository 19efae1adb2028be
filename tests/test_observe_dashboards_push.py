"""`hothot dashboards`: the built JSON has the shape Grafana imports, and `push` never prints
a password given in --url, nor reaches for a host the URL does not name."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hothot.cli import main
from hothot.observe.dashboards import build_dashboard
from tests.observe_fixtures import RecordingServer, free_port


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for panel in panels:
        out.append(panel)
        out.extend(_panels(panel.get("panels", [])))
    return out


def test_dashboard_json_has_grafanas_shape() -> None:
    dashboard = build_dashboard()
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert dashboard["uid"] and dashboard["title"]
    panels = _panels(dashboard["panels"])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        x, w = panel["gridPos"]["x"], panel["gridPos"]["w"]
        assert x >= 0 and x + w <= 24, panel["title"]  # Grafana's grid is 24 columns
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["type"] == "prometheus", panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]
    boxes = [p["gridPos"] for p in panels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_x = a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            overlap_y = a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
            assert not (overlap_x and overlap_y), (a, b)


def test_push_masks_the_password_of_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    with RecordingServer({"status": "success", "url": "/d/x"}) as grafana:
        url = grafana.url.replace("http://", "http://admin:hunter2@")
        assert main(["dashboards", "push", "--url", url]) == 0
    (request,) = grafana.requests  # grafana-client logs in with the URL's user and password
    assert (
        request["headers"]["Authorization"]
        == "Basic " + base64.b64encode(b"admin:hunter2").decode()
    )
    out = capsys.readouterr().out
    assert "hunter2" not in out and "admin:***@" in out
    dead = f"http://admin:hunter2@127.0.0.1:{free_port()}"
    assert main(["dashboards", "push", "--url", dead]) == 2
    out, err = capsys.readouterr()
    assert "hunter2" not in err and "admin:***@127.0.0.1" in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("url", ["http://", "http://:3000/", "https://"])
def test_push_to_a_url_without_a_host_is_refused(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # before: grafana-client sent the request to a host named "none" (a DNS look-up)
    assert main(["dashboards", "push", "--url", url]) == 2
    err = capsys.readouterr().err
    assert f"--url {url}: the URL names no host" in err
