"""A real mapper against the emulator: PynamoDB models with a GSI and an LSI, conditional
saves and updates, queries and scans on indexes, as an application using PynamoDB would."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    KeysOnlyProjection,
    LocalSecondaryIndex,
)
from pynamodb.models import Model

from tests.globaltable_fixtures import CREDENTIALS, RunningEmulator

EAST, WEST = "us-east-1", "us-west-2"
_names = itertools.count()


def order_model(fast_emu: RunningEmulator, region: str, table: str) -> Any:
    """A PynamoDB model bound to one region's endpoint (one class per region, as an
    application deployed in two regions has)."""

    class ByCustomer(GlobalSecondaryIndex["Order"]):
        class Meta:
            index_name = "by_customer"
            projection = AllProjection()

        customer = UnicodeAttribute(hash_key=True)
        placed = NumberAttribute(range_key=True)

    class ByAmount(LocalSecondaryIndex["Order"]):
        class Meta:
            index_name = "by_amount"
            projection = KeysOnlyProjection()

        shop = UnicodeAttribute(hash_key=True)
        amount = NumberAttribute(range_key=True)

    class Order(Model):
        class Meta:
            table_name = table
            host = fast_emu.regions[region]
            aws_access_key_id = CREDENTIALS["aws_access_key_id"]
            aws_secret_access_key = CREDENTIALS["aws_secret_access_key"]
            billing_mode = "PAY_PER_REQUEST"

        shop = UnicodeAttribute(hash_key=True)
        number = NumberAttribute(range_key=True)
        customer = UnicodeAttribute(null=True)
        placed = NumberAttribute(null=True)
        amount = NumberAttribute(null=True)
        state = UnicodeAttribute(default="new")
        by_customer = ByCustomer()
        by_amount = ByAmount()

    Order.Meta.region = region  # a class body cannot read the function's `region`
    return Order


def test_pynamodb_indexes_conditions_and_replication(fast_emu: RunningEmulator) -> None:
    table = f"pynamo-{next(_names)}"
    east = order_model(fast_emu, EAST, table)
    east.create_table(wait=True)
    for n in range(5):
        east(
            shop="s1", number=n, customer="ada" if n % 2 else "bob", placed=100 + n, amount=10 * n
        ).save()
    east(shop="s1", number=99, amount=1).save()  # no customer: not in by_customer
    ada = list(east.by_customer.query("ada", east.placed > 100))
    assert [o.number for o in ada] == [1, 3]
    cheap = list(east.by_amount.query("s1", east.amount <= 20))
    assert sorted(o.number for o in cheap) == [0, 1, 2, 99]
    assert cheap[0].customer is None  # KEYS_ONLY: no customer projected
    assert east.by_customer.count("bob") == 3
    assert sum(1 for _ in east.by_customer.scan()) == 5

    order = east.get("s1", 1)
    order.update(
        actions=[east.state.set("paid"), east.amount.add(5)], condition=east.state == "new"
    )
    assert east.get("s1", 1).amount == 15
    with pytest.raises(PutError):
        east(shop="s1", number=1).save(condition=east.number.does_not_exist())

    assert fast_emu.control_client.quiesce(10)["converged"]
    west = order_model(fast_emu, WEST, table)
    replicated = list(west.by_customer.query("ada"))
    assert [(o.number, o.state, o.amount) for o in replicated] == [(1, "paid", 15), (3, "new", 30)]
