"""Hand-built histories, one per anomaly, including the tricky cases of DESIGN §5."""

from __future__ import annotations

from typing import Any

from globaltable import truth
from tests.verdict_fixtures import HistoryBuilder
from verdict import check
from verdict.analyze import analyze


def verdict_of(h: HistoryBuilder, **kw: Any) -> dict[str, Any]:
    return analyze(h.save(), **kw).data


def test_concurrent_writes_one_conflict_one_lost_with_evidence(history: HistoryBuilder) -> None:
    base = history.write("a", "profile#1", None, 0.0)
    win = history.write("a", "profile#1", base, 1.0)
    lose = history.write("b", "profile#1", base, 1.002)
    history.final("profile#1", {"a": win, "b": win})
    v = verdict_of(history)
    assert v["totals"]["conflicts"] == 1
    assert v["totals"]["lost_updates"] == 1
    ex = v["examples"]["lost_update"][0]
    assert ex["key"] == "profile#1"
    roles = {w["role"]: w for w in ex["writes"]}
    assert roles["lost"]["vid"] == lose and roles["lost"]["region"] == "b"
    assert roles["final"]["vid"] == win
    assert v["workloads"]["profile"]["regions"]["b"]["lost_updates"] == 1
    assert v["workloads"]["profile"]["regions"]["a"]["lost_updates"] == 0


def test_loser_in_one_region_whose_descendant_won_elsewhere_is_not_lost(
    history: HistoryBuilder,
) -> None:
    # A (region a) and B (region b) both replace v0. B reaches region a... no: A's successor C
    # is written in a before B arrives, and C wins everywhere. A lost LWW against B in region
    # b for a while, but C descends from A, so only B is lost.
    v0 = history.write("a", "profile#1", None, 0.0)
    a = history.write("a", "profile#1", v0, 1.0)
    b = history.write("b", "profile#1", v0, 1.001)
    history.read("b", "profile#1", b, 1.5)
    c = history.write("a", "profile#1", a, 2.0)
    history.final("profile#1", {"a": c, "b": c})
    v = verdict_of(history)
    assert v["totals"]["conflicts"] == 1
    assert v["totals"]["lost_updates"] == 1
    assert v["examples"]["lost_update"][0]["writes"][0]["vid"] == b


def test_unknown_writes_resolved_when_seen_and_never_lost_otherwise(
    history: HistoryBuilder,
) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    seen = history.write("a", "profile#1", v0, 1.0, outcome="unknown", error="timeout")
    history.read("b", "profile#1", seen, 2.0)  # observed: it happened
    after = history.write("a", "profile#1", seen, 3.0)
    ghost = history.write("b", "profile#1", after, 3.001, outcome="unknown")  # never seen
    history.final("profile#1", {"a": after, "b": after})
    v = verdict_of(history)
    t = v["totals"]
    assert t["writes_unknown"] == 2 and t["unknown_resolved"] == 1
    assert t["lost_updates"] == 0 and t["conflicts"] == 0
    assert ghost not in str(v["examples"])
    h2 = HistoryBuilder(history.root.parent / "second")
    v0 = h2.write("a", "profile#1", None, 0.0)
    lost_unknown = h2.write("b", "profile#1", v0, 1.0, outcome="unknown")
    h2.read("b", "profile#1", lost_unknown, 1.2)
    win = h2.write("a", "profile#1", v0, 1.0005)
    h2.final("profile#1", {"a": win, "b": win})
    v2 = verdict_of(h2)
    assert v2["totals"]["lost_updates"] == 1  # resolved as happened, then discarded by LWW
    assert v2["totals"]["conflicts"] == 1


def test_failed_writes_are_not_counted(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    history.write("b", "profile#1", v0, 1.0, outcome="fail", error="ValidationException")
    history.final("profile#1", {"a": v0, "b": v0})
    v = verdict_of(history)
    assert v["totals"]["writes_failed"] == 1 and v["totals"]["conflicts"] == 0
    assert v["totals"]["lost_updates"] == 0


def test_delete_then_recreate_is_a_chain_not_a_loss(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    history.write("a", "profile#1", v0, 1.0, op="delete")
    again = history.write("a", "profile#1", None, 2.0)  # found the item absent after the delete
    history.final("profile#1", {"a": again, "b": again})
    v = verdict_of(history)
    assert v["totals"]["writes_ok"] == 3  # the delete is a write of the chain
    assert v["totals"]["lost_updates"] == 0
    assert v["totals"]["conflicts"] == 0, "the re-creation hangs off the delete, not the root"
    assert v["examples"] == {}


def test_delete_discarded_by_a_concurrent_put_is_lost(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    d = history.write("a", "profile#1", v0, 1.0, op="delete")
    put = history.write("b", "profile#1", v0, 1.0005)
    history.final("profile#1", {"a": put, "b": put})
    v = verdict_of(history)
    assert v["totals"]["conflicts"] == 1
    assert v["totals"]["lost_updates"] == 1
    assert v["examples"]["lost_update"][0]["writes"][0]["vid"] == d
    assert v["examples"]["lost_update"][0]["writes"][0]["op"] == "delete"


def test_delete_that_won_keeps_its_ancestors(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    history.write("a", "profile#1", v0, 1.0, op="delete")
    history.final("profile#1", {"a": None, "b": None})
    v = verdict_of(history)
    assert v["totals"]["lost_updates"] == 0 and v["totals"]["divergent_keys"] == 0


def test_attribute_level_writes_are_judged_per_attribute(history: HistoryBuilder) -> None:
    key = "split#1"
    v0 = history.write("a", key, None, 0.0)
    addr = history.write("a", key, v0, 1.0, attrs=["address"], attr_preds={"address": None})
    phone = history.write("b", key, v0, 1.001, attrs=["phone"], attr_preds={"phone": None})
    # item-level LWW: phone's item won, it does not carry address -> address lost
    history.final(key, {"a": phone, "b": phone}, attrs={"phone": phone})
    v = verdict_of(history)
    assert v["totals"]["conflicts"] == 1
    assert v["totals"]["lost_updates"] == 1
    assert v["examples"]["lost_update"][0]["writes"][0]["vid"] == addr
    # a chain on one attribute: addr2 replaced addr, final keeps addr2 and phone -> none lost
    h2 = HistoryBuilder(history.root.parent / "chain")
    v0 = h2.write("a", key, None, 0.0)
    addr = h2.write("a", key, v0, 1.0, attrs=["address"], attr_preds={"address": None})
    phone = h2.write("a", key, addr, 2.0, attrs=["phone"], attr_preds={"phone": None})
    addr2 = h2.write("b", key, phone, 3.0, attrs=["address"], attr_preds={"address": addr})
    h2.final(key, {"a": addr2, "b": addr2}, attrs={"address": addr2, "phone": phone})
    v2 = verdict_of(h2)
    assert v2["totals"]["lost_updates"] == 0 and v2["totals"]["conflicts"] == 0


def test_skew_inverted_win(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    early = history.write("a", "profile#1", v0, 1.0)  # completes at 1.01
    late = history.write("b", "profile#1", v0, 2.0)  # invoked after `early` completed
    history.final("profile#1", {"a": early, "b": early})  # ...yet LWW kept `early`
    v = verdict_of(history)
    assert v["totals"]["skew_inverted"] == 1
    ex = v["examples"]["skew_inverted"][0]
    assert [w["vid"] for w in ex["writes"]] == [late, early]
    # the normal outcome (the later write wins) is no inversion
    h2 = HistoryBuilder(history.root.parent / "normal")
    v0 = h2.write("a", "profile#1", None, 0.0)
    h2.write("a", "profile#1", v0, 1.0)
    late = h2.write("b", "profile#1", v0, 2.0)
    h2.final("profile#1", {"a": late, "b": late})
    assert verdict_of(h2)["totals"]["skew_inverted"] == 0


def test_divergent_key(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    x = history.write("b", "profile#1", v0, 1.0)
    history.final("profile#1", {"a": v0, "b": x})
    v = verdict_of(history)
    assert v["totals"]["divergent_keys"] == 1
    assert v["examples"]["divergence"][0]["regions"]["b"]["vid"] == x
    assert v["totals"]["lost_updates"] == 0  # on the chain of some region's final value


def test_counter_value_check_agrees_with_the_graph(tmp_path: Any) -> None:
    h = HistoryBuilder(tmp_path / "r", {"name": "c", "workloads": [{"kind": "counter"}]})
    v1 = h.write("a", "counter#1", None, 0.0, value=1)
    v2 = h.write("a", "counter#1", v1, 1.0, value=1)
    h.write("b", "counter#1", v1, 1.0005, value=1)  # concurrent increment, lost by LWW
    h.final("counter#1", {"a": v2, "b": v2}, value=2)
    v = analyze(h.save()).data
    vc = v["workloads"]["counter"]["value_check"]
    assert vc["keys_checked"] == 1 and vc["lost_by_value"] == 1 and vc["lost_by_graph"] == 1
    assert "disagreements" not in vc


def test_counter_value_disagreement_is_reported(tmp_path: Any) -> None:
    h = HistoryBuilder(tmp_path / "r", {"name": "c", "workloads": [{"kind": "counter"}]})
    v1 = h.write("a", "counter#1", None, 0.0, value=1)
    v2 = h.write("a", "counter#1", v1, 1.0, value=1)
    h.final("counter#1", {"a": v2, "b": v2}, value=5)  # the store says 5: a bug somewhere
    v = analyze(h.save()).data
    assert v["workloads"]["counter"]["value_check"]["disagreements"] == 1
    ex = v["examples"]["value_mismatch"][0]
    assert ex["key"] == "counter#1" and ex["final_count"] == 5


def test_cart_missing_elements(tmp_path: Any) -> None:
    h = HistoryBuilder(
        tmp_path / "r", {"name": "c", "workloads": [{"kind": "cart", "name": "cart"}]}
    )
    e1 = h.write("a", "cart#1", None, 0.0, value="e1")
    e2 = h.write("a", "cart#1", e1, 1.0, value="e2")
    h.write("b", "cart#1", e1, 1.0005, value="e3")
    h.final("cart#1", {"a": e2, "b": e2}, value=["e1", "e2"])
    v = analyze(h.save()).data
    vc = v["workloads"]["cart"]["value_check"]
    assert vc["lost_by_value"] == 1 and vc["lost_by_graph"] == 1 and "disagreements" not in vc


def test_stale_reads_against_the_bound(tmp_path: Any) -> None:
    h = HistoryBuilder(tmp_path / "r", {"name": "s", "verdict": {"staleness_bound": "500ms"}})
    v0 = h.write("a", "profile#1", None, 0.0)
    v1 = h.write("a", "profile#1", v0, 1.0)  # supersedes v0 at 1.01
    h.read("b", "profile#1", v0, 1.2)  # 0.19s stale: within bound
    h.read("b", "profile#1", v0, 3.01)  # 2s stale
    h.read("a", "profile#1", v1, 3.0)  # fresh
    h.final("profile#1", {"a": v1, "b": v1})
    v = analyze(h.save()).data
    regions = v["stale_reads"]["regions"]
    assert regions["b"]["stale"] == 1 and regions["a"]["stale"] == 0
    assert abs(regions["b"]["max"] - 2.0) < 1e-6
    assert v["examples"]["stale_read"][0]["vid_read"] == v0


def test_every_stale_read_is_attributed_to_its_fault_window(history: HistoryBuilder) -> None:
    """All of them, not only the ten the report quotes."""
    history.campaign = {"name": "s", "verdict": {"staleness_bound": "500ms"}}
    v0 = history.write("a", "profile#1", None, 0.0)
    v1 = history.write("a", "profile#1", v0, 1.0)
    for i in range(15):  # 15 reads of v0, each more than 1s after v1 superseded it
        history.read("b", "profile#1", v0, 3.0 + i * 0.1)
    history.final("profile#1", {"a": v1, "b": v1})
    history.fault("p1", "partition", "a<->b", 2.5, 3.45)  # holds 5 of them
    v = verdict_of(history)
    by_id = {w["id"]: w["anomalies"] for w in v["faults"]}
    assert (by_id["p1"]["stale_reads"], by_id["outside"]["stale_reads"]) == (5, 10)
    assert v["stale_reads"]["regions"]["b"]["stale"] == 15
    assert len(v["examples"]["stale_read"]) == 10


def test_anomalies_are_attributed_to_fault_windows(history: HistoryBuilder) -> None:
    for i, t in enumerate((5.0, 50.0)):
        key = f"profile#{i}"
        v0 = history.write("a", key, None, t - 1)
        win = history.write("a", key, v0, t)
        history.write("b", key, v0, t + 0.001)
        history.final(key, {"a": win, "b": win})
    history.fault("p1", "partition", "a<->b", 4.0, 10.0)
    v = verdict_of(history)
    by_id = {w["id"]: w["anomalies"] for w in v["faults"]}
    assert by_id["p1"] == {"conflicts": 1, "lost_updates": 1}
    assert by_id["outside"] == {"conflicts": 1, "lost_updates": 1}
    assert v["examples"]["lost_update"][0]["faults"] == ["p1"]


def test_lag_percentiles_and_convergence(history: HistoryBuilder) -> None:
    for i in range(100):
        history.probe("a", "b", float(i), (i + 1) / 100)
    history.probe("b", "a", 1.0, 0.2)
    history.fault("p1", "partition", "a<->b", 10.0, 20.0)
    v0 = history.write("a", "profile#1", None, 0.0)
    history.final("profile#1", {"a": v0})
    v = verdict_of(history)
    ab = v["lag"]["a->b"]
    assert (ab["p50"], ab["p95"], ab["p99"], ab["max"], ab["count"]) == (0.5, 0.95, 0.99, 1.0, 100)
    assert v["lag"]["b->a"]["max"] == 0.2
    conv = v["convergence"][0]
    assert conv["window"] == "p1" and abs(conv["converged_s"] - 0.21) < 1e-6
    assert conv["slowest_link"] == "a->b"


def test_truth_mismatch_is_flagged_loudly(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    win = history.write("a", "profile#1", v0, 1.0)
    lose = history.write("b", "profile#1", v0, 1.001)
    history.final("profile#1", {"a": win, "b": win})
    history.truth = {
        "totals": {"writes": 3, "conflicts": 1, "lost_updates": 1},
        "keys": {"profile#1": {"writes": 3, "conflicts": 1, "lost": [lose], "final": win}},
    }
    v = verdict_of(history)
    assert v["truth"] == {"conflicts": 1, "lost_updates": 1, "writes": 3}
    assert v["truth_mismatch"] is False and "truth_diff" not in v
    history.truth["totals"]["lost_updates"] = 0
    history.truth["keys"]["profile#1"]["lost"] = []
    v = verdict_of(history)
    assert v["truth_mismatch"] is True
    assert v["truth_diff"]["keys_differing"] == 1
    assert v["truth_diff"]["examples"][0]["verdict"]["lost"] == [lose]


def test_truth_counting_lost_writes_it_no_longer_names_agrees(history: HistoryBuilder) -> None:
    """The emulator's compacted truth counts (`lost_unlisted`) the writes a later write
    without hh_vid made lost after they had been kept: the verdict agrees when its own lost
    writes are the ones named plus that many more."""
    v0 = history.write("a", "profile#1", None, 0.0)
    v1 = history.write("a", "profile#1", v0, 1.0)
    lose = history.write("b", "profile#1", v0, 1.001)
    history.final("profile#1", {"a": None, "b": None})  # a plain write won: all three lost
    history.truth = {
        "totals": {"writes": 3, "conflicts": 1, "lost_updates": 3},
        "keys": {"profile#1": {"writes": 3, "conflicts": 1, "lost": [lose], "lost_unlisted": 2,
                               "final": None}},
    }  # fmt: skip
    v = verdict_of(history)
    assert v["totals"]["lost_updates"] == 3
    assert v["truth_mismatch"] is False and "truth_diff" not in v
    history.truth["keys"]["profile#1"]["lost_unlisted"] = 1
    v = verdict_of(history)
    assert v["truth_diff"]["keys_differing"] == 1, v1


def test_truth_naming_some_lost_writes_and_digesting_all_agrees(history: HistoryBuilder) -> None:
    """Past LOST_LISTED lost writes of a key the emulator names no more: it counts them
    (`lost_more`) and gives the digest of all (`lost_digest`, the same function on both
    sides); the verdict agrees only when its own lost writes have that count and digest."""
    v0 = history.write("a", "profile#1", None, 0.0)
    losers = [history.write("b", "profile#1", v0, 1.0 + i / 100) for i in range(3)]
    win = history.write("a", "profile#1", v0, 2.0)
    history.final("profile#1", {"a": win, "b": win})
    history.truth = {
        "totals": {"writes": 5, "conflicts": 3, "lost_updates": 3},
        "keys": {"profile#1": {"writes": 5, "conflicts": 3, "lost": losers[:1], "lost_more": 2,
                               "lost_digest": truth.vid_digest(losers), "final": win}},
    }  # fmt: skip
    assert check.vid_digest(reversed(losers)) == truth.vid_digest(losers)
    v = verdict_of(history)
    assert v["totals"]["lost_updates"] == 3
    assert v["truth_mismatch"] is False and "truth_diff" not in v
    history.truth["keys"]["profile#1"]["lost_digest"] = truth.vid_digest([*losers[:2], win])
    assert verdict_of(history)["truth_diff"]["keys_differing"] == 1


def test_a_lost_update_example_names_the_write_that_replaced_it(history: HistoryBuilder) -> None:
    v0 = history.write("a", "profile#1", None, 0.0)
    lose = history.write("b", "profile#1", v0, 1.2)
    win = history.write("a", "profile#1", v0, 1.3)
    after = history.write("a", "profile#1", win, 2.0)
    history.final("profile#1", {"a": after, "b": after})
    example = verdict_of(history)["examples"]["lost_update"][0]
    assert [(w["role"], w["vid"]) for w in example["writes"]] == [
        ("lost", lose), ("overwritten by", win), ("final", after),
    ]  # fmt: skip


def test_examples_also_come_from_inside_each_fault_window(history: HistoryBuilder) -> None:
    """The earliest anomalies of a busy run are start-up races: the report must also quote
    what happened during each fault."""
    for i in range(12):  # twelve early lost updates, before any fault
        v0 = history.write("a", f"profile#{i}", None, float(i))
        history.write("b", f"profile#{i}", v0, i + 0.2)
        win = history.write("a", f"profile#{i}", v0, i + 0.3)
        history.final(f"profile#{i}", {"a": win, "b": win})
    history.fault("f1", "partition", "a<->b", 50.0, 60.0)
    v0 = history.write("a", "profile#50", None, 40.0)
    inside = history.write("b", "profile#50", v0, 55.0)
    win = history.write("a", "profile#50", v0, 55.5)
    history.final("profile#50", {"a": win, "b": win})
    data = verdict_of(history)
    lost = data["examples"]["lost_update"]
    assert len(lost) == 11 and lost[-1]["writes"][0]["vid"] == inside
    assert lost[-1]["faults"] == ["f1"]
    assert [e["t"] for e in lost] == sorted(e["t"] for e in lost)
