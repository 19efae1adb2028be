"""The `target:` section of a campaign (DESIGN §2): which store, where, and the guards a
real one needs; bringing it up is `hothot.target`."""

from __future__ import annotations

import re
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from globaltable.control import ControlError, check_control_url
from hothot.pgrun import check_pglogical_spec
from units import Duration

#: the emulator's links in a campaign (the control API allows up to an hour)
MAX_REPLICATION_S = 600.0
#: AWS has about thirty regions
MAX_REGIONS = 32


class ReplicationSpec(BaseModel):
    """The emulator's links; unset: the emulator's default for its mode (eventual: 800ms
    +- 400ms; strong: a 30ms +- 10ms round trip to the nearest region)."""

    model_config = ConfigDict(extra="forbid")
    delay: Duration | None = Field(None, ge=0, le=MAX_REPLICATION_S)
    jitter: Duration | None = Field(None, ge=0, le=MAX_REPLICATION_S)


class TargetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["emulator", "endpoints", "aws", "pglogical"] = "emulator"
    regions: list[str] = Field(
        default_factory=lambda: ["us-east-1", "us-west-2", "eu-west-1"],
        min_length=1,
        max_length=MAX_REGIONS,
    )
    table: str = "hothot-campaign"
    #: emulator only: MREC (eventual) or MRSC (strong, exactly three regions)
    mode: Literal["eventual", "strong"] = "eventual"
    replication: ReplicationSpec = Field(default_factory=ReplicationSpec)
    #: endpoints only: region -> URL, plus the hothot emulator's control URL when there is one
    endpoints: dict[str, str] = Field(default_factory=dict)
    control: str | None = None
    #: the control API's shared token (an emulator started with one requires it); unset:
    #: $HOTHOT_CONTROL_TOKEN. Never written to the report's campaign.yaml
    control_token: str | None = Field(None, min_length=1, max_length=4096, exclude=True)
    #: create the table (pk S, on-demand) when missing; default: yes except on aws
    create_table: bool | None = None
    #: aws only: both guards must pass before any call is made
    allow_real_aws: bool = False
    table_guard: str = "hothot-"
    #: pglogical only: region -> DSN of clusters someone else runs (without it hothot starts
    #: its own); the first port of the clusters it starts (0: free ports), and how long they
    #: may take to start and replicate
    dsn: dict[str, str] = Field(default_factory=dict)
    port: int = Field(0, ge=0, le=65535)
    startup_timeout: Duration = Field(30.0, gt=0, le=600)
    #: without a control API nothing says when replication has drained: wait this long before
    #: the final reads (AWS's rule of thumb is ~10x the recent maximum replication latency)
    settle: Duration = Field(10.0, ge=0, le=600)
    #: put before every key the run writes: `auto` draws a fresh one per run (the default on
    #: aws), "" none (the default elsewhere), or a prefix of your own
    key_prefix: str | None = None
    #: items already under the run's keys (aws and endpoints targets): refuse the run, or
    #: write over them
    existing_items: Literal["refuse", "overwrite"] = "refuse"

    @field_validator("key_prefix")
    @classmethod
    def _key_prefix(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 64 or not re.fullmatch(r"[!-~]*", value)):
            raise ValueError(
                f"key_prefix {value!r}: give auto, '' or up to 64 printable ASCII characters "
                "without spaces"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> TargetSpec:
        if len(set(self.regions)) != len(self.regions):
            raise ValueError(f"regions are listed twice: {self.regions}")
        if self.kind == "endpoints":
            missing = [r for r in self.regions if r not in self.endpoints]
            if missing:
                raise ValueError(f"kind endpoints needs an endpoint URL for {', '.join(missing)}")
            extra = [r for r in self.endpoints if r not in self.regions]
            if extra:
                raise ValueError(f"endpoints names regions not in target.regions: {extra}")
        elif self.endpoints or self.control:
            raise ValueError(f"endpoints/control are only for kind endpoints, not {self.kind}")
        if self.control is not None:
            try:
                check_control_url(self.control)
            except ControlError as exc:
                raise ValueError(f"control: {exc}") from None
        if self.kind == "pglogical":
            check_pglogical_spec(list(self.regions), dict(self.dsn), self.port)
        elif self.dsn or self.port:
            raise ValueError(f"dsn/port are only for kind pglogical, not {self.kind}")
        if self.kind == "aws":
            if not self.allow_real_aws:
                raise ValueError(
                    "kind aws drives a real DynamoDB table: set allow_real_aws: true to confirm"
                )
            if not self.table_guard:
                raise ValueError(
                    "table_guard must not be empty: every table name starts with '', so it "
                    "would guard nothing; give the table's prefix or its full name"
                )
            if not self.table.startswith(self.table_guard):
                raise ValueError(
                    f"table {self.table!r} does not start with table_guard {self.table_guard!r}"
                )
        if self.mode == "strong" and (self.kind != "emulator" or len(self.regions) != 3):
            raise ValueError("mode strong (MRSC) needs kind emulator and exactly three regions")
        return self

    @property
    def has_control(self) -> bool:
        """Faults act inside the store: a hothot emulator, or clusters hothot starts."""
        if self.kind == "pglogical":
            return not self.dsn
        return self.kind == "emulator" or self.control is not None

    @property
    def wants_table_created(self) -> bool:
        return self.create_table if self.create_table is not None else self.kind != "aws"

    def run_key_prefix(self) -> str:
        """This run's key prefix: `auto` (also the aws default) drawn fresh, so a rerun on a
        table that outlives runs starts from a clean key space."""
        wanted = self.key_prefix if self.key_prefix is not None else AUTO * (self.kind == "aws")
        return f"run-{secrets.token_hex(4)}/" if wanted == AUTO else wanted


#: `target.key_prefix` value asking for a fresh prefix per run
AUTO = "auto"
