"""`LoadPlan`: everything the load library needs from a campaign, and nothing of the CLI.

The runner builds one from the campaign; tests build one by hand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from loadgen.arrivals import RateProfile
from loadgen.client import Boto3Client, DynamoClient
from loadgen.dynamo import DynamoStore
from loadgen.endpoints import Endpoint, resolve_endpoint
from loadgen.failover import failover_target
from loadgen.ops import Store
from loadgen.spec import ObserveSpec, WorkloadSpec, WritersSpec


def user_rng(seed: int, region: str, index: int) -> random.Random:
    """The generator of user `index` of `region` (str seeds hash with SHA-512: stable)."""
    return random.Random(f"hothot:{seed}:{region}:{index}")


@dataclass
class LoadPlan:
    regions: list[str]
    #: region -> endpoint URL; None means AWS's own endpoint for that region
    endpoints: dict[str, str | None]
    table: str
    seed: int
    writers: WritersSpec
    workloads: list[WorkloadSpec]
    observe: ObserveSpec = field(default_factory=ObserveSpec)
    #: boto3 credential keywords (aws_access_key_id, ...); None: the standard chain / local dummy
    credentials: dict[str, str] | None = None
    #: this process's name in record ids and the shard file name
    worker: str = "w0"
    #: which store family the endpoints are: "dynamodb" (URLs) or "pglogical" (DSNs)
    store_kind: str = "dynamodb"
    #: put before every key the workloads and probes write ("" = none): a run's own key space
    key_prefix: str = ""
    #: region -> where boto3 sends, resolved once per region for the fast client
    _resolved: dict[str, Endpoint] = field(default_factory=dict, repr=False)
    #: seconds the load lasts (the open model's schedule spans it)
    duration: float = 0.0

    def __post_init__(self) -> None:
        if not self.regions:
            raise ValueError("a load plan needs at least one region")
        if len(set(self.regions)) != len(self.regions):
            raise ValueError(f"regions repeat: {self.regions}")
        missing = [r for r in self.regions if r not in self.endpoints]
        if missing:
            raise ValueError(f"no endpoint given for region(s) {missing}")
        names = [w.name for w in self.workloads]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"workload names repeat: {dup}; give each a distinct `name:`")
        for region in self.regions:  # raises naming a failover region outside the campaign
            failover_target(self.writers.failover, region, self.regions)

    def rate_profile(self) -> RateProfile | None:
        """The open model's rate over the duration; None in the closed model."""
        writers = self.writers
        if not writers.open:
            return None
        if writers.stages is None:
            return RateProfile.constant(float(writers.rate or 0.0), self.duration)
        stages = [(stage.for_, stage.rate) for stage in writers.stages]
        return RateProfile.staged(float(writers.rate or 0.0), stages)

    @property
    def slots_per_store(self) -> int:
        """How many concurrent operations one store client serves (the open model shares
        them): Boto3Client and FastClient keep 64 connections, a PgStore one."""
        return 1 if self.store_kind == "pglogical" else 64

    def store(self, region: str) -> Store:
        """A new store client for `region`: what workloads, probes and final reads use."""
        if self.store_kind == "pglogical":
            from loadgen.pgstore import PgStore  # psycopg only for this target kind

            dsn = self.endpoints[region]
            if dsn is None:
                raise ValueError(f"no DSN for region {region}")
            return PgStore(region, dsn, self.table, timeout_s=self.writers.timeout)
        return DynamoStore(self.client(region), self.table)

    def client(self, region: str) -> DynamoClient:
        """A new client for `region` (each user owns its own: no shared connection pools)."""
        endpoint = self.endpoints[region]
        if self.writers.client != "fast":
            return Boto3Client(
                region,
                endpoint,
                retries=self.writers.retries,
                timeout_s=self.writers.timeout,
                credentials=self.credentials,
            )
        from loadgen.fastclient import FastClient  # imported only when asked for

        resolved = None
        if endpoint is None:  # boto3's answer, asked once per region (env, config files, …)
            if region not in self._resolved:
                self._resolved[region] = resolve_endpoint(
                    region, credentials=self.credentials, table=self.table
                )
            resolved = self._resolved[region]
        return FastClient(
            region,
            endpoint,
            retries=self.writers.retries,
            timeout_s=self.writers.timeout,
            credentials=self.credentials,
            resolved=resolved,
        )
