"""Read-only calls that tools make around a table (Terraform reads a table back with
DescribeContinuousBackups; capacity planners call DescribeLimits): answered with what holds
here, so they work against the emulator instead of stopping at UnknownOperationException."""

from __future__ import annotations

from typing import Any

from globaltable.engine import GlobalTable
from globaltable.request import check_name, table_of

#: DynamoDB's default quotas per account and region, and per table (provisioned mode)
LIMITS = {
    "AccountMaxReadCapacityUnits": 80000,
    "AccountMaxWriteCapacityUnits": 80000,
    "TableMaxReadCapacityUnits": 40000,
    "TableMaxWriteCapacityUnits": 40000,
}


def describe_limits(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    return dict(LIMITS)


def describe_continuous_backups(
    gt: GlobalTable, region: str, req: dict[str, Any]
) -> dict[str, Any]:
    """Backups are always possible on DynamoDB (`ENABLED`); point-in-time recovery is off
    here and cannot be turned on (UpdateContinuousBackups is refused by name)."""
    check_name(req.get("TableName"))
    table_of(gt, req, region)
    return {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
        }
    }
