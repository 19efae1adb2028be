"""The `aws` injector: AWS Fault Injection Service pauses a global table's replication.

FIS action `aws:dynamodb:global-table-pause-replication` pauses replication to and from the
replica in the experiment's region (reference: FIS actions reference). A partition isolating
region A is one experiment in A: create a template (target type `aws:dynamodb:global-table`,
selected by the campaign's tags or the table's ARN), start it; healing stops the experiment
and deletes the template. The template's `duration` is the window's length, so FIS itself
ends the pause even if hothot is killed and nobody runs `hothot heal`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

from chaos.faults import FaultSpec
from chaos.injectors.base import Handle, Injector

ACTION_ID = "aws:dynamodb:global-table-pause-replication"
RESOURCE_TYPE = "aws:dynamodb:global-table"

#: region -> boto3 FIS client; tests pass clients wrapped in botocore's Stubber
FisFactory = Callable[[str], Any]


def default_fis(region: str) -> Any:
    import boto3

    return boto3.client("fis", region_name=region)


def iso_duration(seconds: float) -> str:
    """Whole seconds, rounded up: 'PT15S'."""
    return f"PT{max(1, math.ceil(seconds))}S"


class AwsFisInjector(Injector):
    name = "aws"

    def __init__(
        self,
        role_arn: str,
        table: str,
        regions: list[str],
        tags: dict[str, str] | None = None,
        table_arn: str | None = None,
        fis: FisFactory = default_fis,
    ) -> None:
        super().__init__(regions, "aws", has_control=False)
        self.role_arn = role_arn
        self.table = table
        self.tags = dict(tags or {})
        self.table_arn = table_arn
        self.fis = fis

    def replica_region(self, fault: FaultSpec) -> str:
        """The replica whose replication is paused (validation allows only these forms)."""
        region = getattr(fault, "region", None)
        return str(region or getattr(fault, "regions", [""])[0])

    def table_arn_in(self, region: str) -> str:
        if self.table_arn:
            return self.table_arn
        _, partition, _, _, account, _ = self.role_arn.split(":", 5)
        return f"arn:{partition}:dynamodb:{region}:{account}:table/{self.table}"

    def template_request(self, fault: FaultSpec, fault_id: str, region: str) -> dict[str, Any]:
        target: dict[str, Any] = {"resourceType": RESOURCE_TYPE, "selectionMode": "ALL"}
        if self.tags:
            target["resourceTags"] = self.tags
        else:
            target["resourceArns"] = [self.table_arn_in(region)]
        return {
            "clientToken": str(uuid.uuid4()),
            "description": f"hothot {fault_id}: {fault.name} {fault.target_label()}",
            "stopConditions": [{"source": "none"}],
            "targets": {"Tables": target},
            "actions": {
                "pause-replication": {
                    "actionId": ACTION_ID,
                    "parameters": {"duration": iso_duration(fault.for_ or 0.0)},
                    "targets": {"Tables": "Tables"},
                }
            },
            "roleArn": self.role_arn,
            "tags": {"hothot": fault_id},
        }

    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        region = self.replica_region(fault)
        fis = self.fis(region)
        template = fis.create_experiment_template(**self.template_request(fault, fault_id, region))
        template_id = template["experimentTemplate"]["id"]
        try:
            started = fis.start_experiment(
                clientToken=str(uuid.uuid4()), experimentTemplateId=template_id
            )
        except BaseException:
            fis.delete_experiment_template(id=template_id)
            raise
        return {
            "region": region,
            "template_id": template_id,
            "experiment_id": started["experiment"]["id"],
        }

    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        """Stop the experiment (already finished is fine), then always delete the template."""
        fis = self.fis(str(handle["region"]))
        try:
            fis.stop_experiment(id=handle["experiment_id"])
        except Exception as err:
            if not _already_over(err):
                raise
        finally:
            try:
                fis.delete_experiment_template(id=handle["template_id"])
            except Exception as err:
                if not _already_over(err):
                    raise

    @classmethod
    def for_healing(cls, handle: Handle) -> AwsFisInjector:
        return cls(role_arn="", table="", regions=[])


def _already_over(err: Exception) -> bool:
    """FIS answers ResourceNotFound for a deleted template and a conflict/validation error for
    an experiment that already ended: both mean there is nothing left to undo."""
    code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ResourceNotFoundException", "ConflictException") or (
        code == "ValidationException" and "state" in str(err).lower()
    )
