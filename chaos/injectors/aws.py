"""The `aws` injector: AWS Fault Injection Service pauses a global table's replication.

FIS action `aws:dynamodb:global-table-pause-replication` pauses replication to and from the
replica in the experiment's region (reference: FIS actions reference). A partition isolating
region A is one experiment in A: create a template (target type `aws:dynamodb:global-table`,
selected by the table's ARN), start it; healing stops the experiment
and deletes the template. The template's `duration` is the window's length (at least one
minute, `MIN_DURATION_S`), so FIS itself ends the pause even if hothot is killed and nobody
runs `hothot heal`.

A fault counts as applied only once FIS says the experiment is `running` (an experiment whose
role may not edit the table's resource policy, or whose target selects nothing, goes to
`failed` instead), and as healed only once the stopped experiment has left `stopping`.

A run killed while an experiment starts has no handle in `faults.state`, only the pending
part (the region): `heal_pending` finds the templates by their `hothot` tag, stops what was
started from them and deletes them.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from chaos.fault_base import FaultSpec
from chaos.injectors.base import ApplyInterrupted, FaultGone, Handle, Injector

ACTION_ID = "aws:dynamodb:global-table-pause-replication"
RESOURCE_TYPE = "aws:dynamodb:global-table"

#: experiment states (FIS ExperimentStatus) after which nothing of the experiment is left
FINISHED = ("completed", "stopped", "failed", "cancelled")
#: experiment states in which an experiment may still pause replication
LIVE = ("pending", "initiating", "running", "stopping")
#: what the identity running hothot needs for each FIS operation (docs/chaos.md)
PERMISSIONS = {
    "CreateExperimentTemplate": "fis:CreateExperimentTemplate, fis:TagResource and iam:PassRole",
    "StartExperiment": "fis:StartExperiment",
    "GetExperiment": "fis:GetExperiment",
    "StopExperiment": "fis:StopExperiment",
    "DeleteExperimentTemplate": "fis:DeleteExperimentTemplate",
    "ListExperimentTemplates": "fis:ListExperimentTemplates",
    "ListExperiments": "fis:ListExperiments",
}

#: region -> boto3 FIS client; tests pass clients wrapped in botocore's Stubber
FisFactory = Callable[[str], Any]


def default_fis(region: str) -> Any:
    import boto3

    return boto3.client("fis", region_name=region)


#: the shortest `duration` hothot sends: the FIS actions reference gives its timed actions
#: durations "from one minute to 12 hours", and whether the DynamoDB pause accepts less is not
#: documented. hothot stops the experiment itself when the window ends, so a longer template
#: duration only matters when hothot is killed: then FIS ends the pause after this at the most.
MIN_DURATION_S = 60


def iso_duration(seconds: float) -> str:
    """Whole seconds, rounded up, at least MIN_DURATION_S: 'PT60S', 'PT90S'."""
    return f"PT{max(MIN_DURATION_S, math.ceil(seconds))}S"


class FisError(RuntimeError):
    """An FIS call was refused or an experiment did not run; the message names the FIS
    operation, the region and, where it matters, the role."""


class AwsFisInjector(Injector):
    name = "aws"
    pending_fields = ("region",)
    handle_fields = ("region", "template_id", "experiment_id")
    #: how long FIS may take to start (initiating -> running) and to stop an experiment
    start_timeout_s = 120.0
    stop_timeout_s = 120.0
    #: the longest pause between two GetExperiment polls (they start at 0.25 s and double)
    poll_s = 2.0

    def __init__(
        self,
        role_arn: str,
        table: str,
        regions: list[str],
        table_arn: str | None = None,
        fis: FisFactory = default_fis,
    ) -> None:
        super().__init__(regions, "aws", has_control=False)
        self.role_arn = role_arn
        self.table = table
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
        # by ARN only: a tag selection would pause every table carrying the tags
        target: dict[str, Any] = {
            "resourceType": RESOURCE_TYPE,
            "selectionMode": "ALL",
            "resourceArns": [self.table_arn_in(region)],
        }
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

    def pending(self, fault: FaultSpec, fault_id: str) -> Handle:
        return {"region": self.replica_region(fault)}

    def apply(self, fault: FaultSpec, fault_id: str) -> Handle:
        """Create the template, start the experiment and wait until FIS runs it; whatever
        fails on the way is undone (experiment stopped, template deleted) before raising,
        except an interruption, which leaves the undoing to `heal_pending`."""
        region = self.replica_region(fault)
        fis = self.fis(region)
        request = self.template_request(fault, fault_id, region)
        template = self._call(fis, region, "CreateExperimentTemplate", **request)
        template_id = template["experimentTemplate"]["id"]
        experiment_id = None
        try:
            if self.interrupted.is_set():
                raise ApplyInterrupted(f"interrupted before FIS experiment start in {region}")
            started = self._call(
                fis,
                region,
                "StartExperiment",
                clientToken=str(uuid.uuid4()),
                experimentTemplateId=template_id,
            )["experiment"]
            experiment_id = started["id"]
            self._wait_running(fis, region, experiment_id, _status(started))
        except ApplyInterrupted:
            raise
        except BaseException:
            if experiment_id is not None:
                _quietly(lambda: fis.stop_experiment(id=experiment_id))
            _quietly(lambda: fis.delete_experiment_template(id=template_id))
            raise
        return {"region": region, "template_id": template_id, "experiment_id": experiment_id}

    def heal(self, fault: FaultSpec, handle: Handle) -> None:
        """Stop the experiment (already finished is fine) and wait until it has stopped, then
        always delete the template; the first failure is raised."""
        region = str(handle["region"])
        fis = self.fis(region)
        try:
            self._stop(fis, region, str(handle["experiment_id"]))
        finally:
            self._delete_template(fis, region, str(handle["template_id"]))

    def heal_pending(self, fault: FaultSpec, fault_id: str, handle: Handle) -> str:
        """Stop every live experiment of every template tagged `hothot=<fault_id>` in the
        handle's region, waiting as `heal` does, then delete the templates. Templates of
        other faults are never touched."""
        region = str(handle["region"])
        fis = self.fis(region)
        templates = [
            str(t["id"])
            for t in self._pages(fis, region, "ListExperimentTemplates", "experimentTemplates")
            if (t.get("tags") or {}).get("hothot") == fault_id
        ]
        if not templates:
            raise FaultGone(
                f"no FIS template tagged hothot={fault_id} in {region} (the apply created "
                "none, or it was cleaned up)"
            )
        stopped: list[str] = []
        for template_id in templates:
            try:
                for experiment in self._pages(
                    fis, region, "ListExperiments", "experiments", experimentTemplateId=template_id
                ):
                    if _status(experiment) in LIVE:
                        self._stop(fis, region, str(experiment["id"]))
                        stopped.append(str(experiment["id"]))
            finally:
                self._delete_template(fis, region, template_id)
        return (
            f"FIS template {', '.join(templates)} tagged hothot={fault_id} in {region} deleted"
            + (f", experiment {', '.join(stopped)} stopped" if stopped else "")
        )

    # -- FIS calls --------------------------------------------------------------------
    def _call(self, fis: Any, region: str, operation: str, **params: Any) -> Any:
        method = getattr(fis, xform_name(operation))
        try:
            return method(**params)
        except ClientError as err:
            raise FisError(self._explain(err, operation, region)) from err

    def _pages(
        self, fis: Any, region: str, operation: str, key: str, **params: Any
    ) -> list[dict[str, Any]]:
        """Every item of a paginated FIS listing."""
        try:
            pages = fis.get_paginator(xform_name(operation)).paginate(**params)
            return [item for page in pages for item in page.get(key, [])]
        except ClientError as err:
            raise FisError(self._explain(err, operation, region)) from err

    def _delete_template(self, fis: Any, region: str, template_id: str) -> None:
        """Delete a template; one already gone is fine."""
        try:
            self._call(fis, region, "DeleteExperimentTemplate", id=template_id)
        except FisError as err:
            if _code(err) != "ResourceNotFoundException":
                raise

    def _explain(self, err: ClientError, operation: str, region: str) -> str:
        error = err.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        text = f"AWS FIS {operation} in {region} failed: {code}: {message}"
        if "AccessDenied" in code or "UnauthorizedOperation" in code:
            who = PERMISSIONS.get(operation, f"fis:{operation}")
            if operation == "CreateExperimentTemplate":
                who += f" on the FIS role {self.role_arn or '(chaos.aws.role_arn)'}"
            text += f" (the identity running hothot needs {who})"
        return text

    def _wait_running(self, fis: Any, region: str, experiment_id: str, status: str) -> None:
        def check(now: str) -> None:
            if now in FINISHED or now == "stopping":
                raise FisError(self._not_run(fis, region, experiment_id))

        self._poll(
            fis, region, experiment_id, status, ("running", "completed"), self.start_timeout_s,
            "stopped it instead of counting the fault", check, interruptible=True,
        )  # fmt: skip

    def _poll(
        self, fis: Any, region: str, experiment_id: str, status: str, until: tuple[str, ...],
        timeout_s: float, advice: str, check: Any = None, interruptible: bool = False,
    ) -> None:  # fmt: skip
        """Poll GetExperiment until its status is one of `until`; `check` may raise first.
        An interruptible poll (an apply's) ends with ApplyInterrupted when `interrupt()` is
        called; a heal's poll is never cut short."""
        deadline, pause = time.monotonic() + timeout_s, min(0.25, self.poll_s)
        while status not in until:
            if check is not None:
                check(status)
            if time.monotonic() >= deadline:
                raise FisError(
                    f"FIS experiment {experiment_id} in {region} is still {status!r} after "
                    f"{timeout_s:g}s; {advice}"
                )
            if interruptible:
                if self.interrupted.wait(pause):
                    raise ApplyInterrupted(
                        f"interrupted while FIS experiment {experiment_id} in {region} was "
                        f"{status!r}"
                    )
            else:
                time.sleep(pause)
            pause = min(self.poll_s, pause * 2)
            status = _status(self._experiment(fis, region, experiment_id))

    def _not_run(self, fis: Any, region: str, experiment_id: str) -> str:
        state = self._experiment(fis, region, experiment_id).get("state", {})
        error = state.get("error") or {}
        detail = state.get("reason") or "no reason given"
        if error.get("code"):
            detail += (
                f" ({error['code']}{' at ' + error['location'] if error.get('location') else ''})"
            )
        return (
            f"FIS experiment {experiment_id} in {region} {state.get('status', 'ended')} instead "
            f"of running: {detail}; check the FIS role {self.role_arn} (chaos.aws.role_arn) and "
            "that the target selects the table in that region (docs/chaos.md)"
        )

    def _experiment(self, fis: Any, region: str, experiment_id: str) -> dict[str, Any]:
        return dict(self._call(fis, region, "GetExperiment", id=experiment_id)["experiment"])

    def _stop(self, fis: Any, region: str, experiment_id: str) -> None:
        try:
            status = _status(self._call(fis, region, "StopExperiment", id=experiment_id))
        except FisError as err:
            if _code(err) == "ResourceNotFoundException":
                return
            if _code(err) not in ("ValidationException", "ConflictException"):
                raise
            # FIS refuses to stop an experiment that already ended: ask it which this is
            try:
                status = _status(self._experiment(fis, region, experiment_id))
            except FisError as again:
                if _code(again) == "ResourceNotFoundException":
                    return
                raise err from again
            if status not in FINISHED and status != "stopping":
                raise
        self._poll(
            fis, region, experiment_id, status, FINISHED, self.stop_timeout_s,
            "it was asked to stop; run hothot heal again",
        )  # fmt: skip

    @classmethod
    def check_handle(cls, handle: Any, applying: bool) -> list[str]:
        """Also: the region is an AWS region name (botocore would build an endpoint from it)."""
        problems = super().check_handle(handle, applying)
        if not problems and not _REGION.fullmatch(handle["region"]):
            problems.append(f"its region {handle['region']!r} is not an AWS region name")
        return problems

    @classmethod
    def for_healing(cls, handle: Handle) -> AwsFisInjector:
        return cls(role_arn="", table="", regions=[])


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def _status(answer: dict[str, Any]) -> str:
    """The status in an experiment, or in an answer holding one; unknown counts as pending."""
    experiment = answer.get("experiment", answer)
    return str(experiment.get("state", {}).get("status") or "pending")


def _code(err: FisError) -> str:
    cause = err.__cause__
    return (
        str(cause.response.get("Error", {}).get("Code", ""))
        if isinstance(cause, ClientError)
        else ""
    )


def _quietly(undo: Callable[[], Any]) -> None:
    """Best-effort cleanup while another error is being raised: that error is the news."""
    with contextlib.suppress(Exception):
        undo()
