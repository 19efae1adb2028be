"""`hothot cost` through `hothot.cli.main`, as a user types it."""

from __future__ import annotations

import json

import pytest

from hothot.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["cost", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_gives_the_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    # 2 regions x 10 writes/s of 1 KB, 100 eventual reads/s of 1 KB (0.5 unit each):
    # writes 2 * 16.425, replicated 2 * 16.425, reads 2 * 50 * 0.3285 = 32.85 -> 98.55.
    code, out, _ = run(
        capsys, "--writes-per-second", "10", "--reads-per-second", "100",
        "--item-size", "1KB", "--regions", "2", "--json",
    )  # fmt: skip
    assert code == 0
    r = json.loads(out)
    assert set(r["regions"]) == {"region-1", "region-2"}
    assert r["total"]["read_units_per_s"] == 100
    assert r["total"]["monthly_usd"]["reads"] == pytest.approx(32.85)
    assert r["total"]["monthly_usd"]["total"] == pytest.approx(98.55)
    assert r["prices_taken"]
    assert r["answer"].startswith("2 regions x 10 writes/s of 1024 B (1 WCU)")


def test_text_table_and_one_line_answer(capsys: pytest.CaptureFixture[str]) -> None:
    # 3 regions, 1.5 KB = 2 units, 100 writes/s: per region 200 app + 400 replicated units/s
    # = 600 * 1.6425 = $985.50; total $2,956.50.
    code, out, _ = run(capsys, "--writes-per-second", "100", "--item-size", "1.5KB")
    assert code == 0
    assert "replicated writes" in out and "region-3" in out
    assert "$985.50" in out
    lines = out.strip().splitlines()
    assert "$2,956.50/month on-demand" in lines[-1]
    assert "67% of it replicated writes" in lines[-1]


def test_price_override_and_provisioned(capsys: pytest.CaptureFixture[str]) -> None:
    # provisioned, 1 region, 10 writes/s of 100 B: 10 WCU * 730 h * $0.001 = $7.30
    code, out, _ = run(
        capsys, "--writes-per-second", "10", "--item-size", "100B", "--regions", "1",
        "--mode", "provisioned", "--price", "provisioned_wcu_hour=0.001", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["total"]["monthly_usd"]["total"] == pytest.approx(7.30)


def test_storage_and_strong_reads(capsys: pytest.CaptureFixture[str]) -> None:
    # strong reads of 9000 B: 3 units; 10 reads/s * 3 * 0.3285 = 9.855; storage 30 GB with
    # free tier: 5 GB * 0.25 = 1.25. One region, no writes.
    code, out, _ = run(
        capsys, "--writes-per-second", "0", "--reads-per-second", "10", "--item-size", "9000B",
        "--read-consistency", "strong", "--regions", "1", "--storage-gb", "30", "--free-tier",
        "--json",
    )  # fmt: skip
    assert code == 0
    usd = json.loads(out)["total"]["monthly_usd"]
    assert usd["reads"] == pytest.approx(9.855)
    assert usd["storage"] == pytest.approx(1.25)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--writes-per-second", "-5"], "--writes-per-second must be a number >= 0"),
        (["--writes-per-second", "inf"], "--writes-per-second must be a number >= 0"),
        (["--writes-per-second", "5", "--reads-per-second", "nan"], "--reads-per-second"),
        (["--writes-per-second", "5", "--item-size", "1.5XB"], "--item-size: expected a size"),
        (["--writes-per-second", "5", "--item-size=-1KB"], "--item-size: expected a size"),
        (["--writes-per-second", "5", "--item-size", "500KB"], "--item-size 500KB: 512000 B"),
        (["--writes-per-second", "5", "--read-item-size", "500KB"], "--read-item-size 500KB"),
        # a bare number is more likely meant as KB than as bytes: the unit is required
        (["--writes-per-second", "5", "--item-size", "1.5"], "--item-size '1.5': give a unit"),
        (["--writes-per-second", "5", "--read-item-size", "700"], "--read-item-size '700'"),
        (["--writes-per-second", "5", "--regions", "0"], "--regions"),
        (["--writes-per-second", "5", "--storage-gb", "-1"], "--storage-gb"),
        (
            ["--writes-per-second", "5", "--storage-gb", "inf"],
            "--storage-gb: Input should be a finite",
        ),
        (["--writes-per-second", "5", "--price", "wcu=1"], "--price: unknown price 'wcu'"),
        (["--writes-per-second", "5", "--price", "transfer_gb=nan"], "must be a finite number"),
        (["--writes-per-second", "5", "--price", "hours_per_month=inf"], "'hours_per_month'"),
        (["--writes-per-second", "5", "--price", "storage_gb_month"], "key=value"),
    ],
)
def test_bad_input_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_unknown_mode_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["cost", "--writes-per-second", "1", "--mode", "reserved"])
    assert exc.value.code == 2
    assert "reserved" in capsys.readouterr().err
