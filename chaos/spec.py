"""The campaign's `chaos:` section (DESIGN §6): explicit faults, random mode, AWS FIS settings.

`chaos:` is either a list of faults or a mapping `{faults: [...], random: {...}, aws: {...}}`.
Both parse to one `ChaosSpec`; `path(i)` spells a fault's place the way the user wrote it
(`chaos[1]` or `chaos.faults[1]`), so messages point at the right line.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from chaos.faults import FAULTS
from units import Duration

#: any registered fault, chosen by its `fault:` field (built from the registry)
Fault = Annotated[Union[tuple(FAULTS.values())], Field(discriminator="fault")]  # noqa: UP007


def _name_to_template(value: Any) -> Any:
    """Random mode accepts a bare fault name as a template with every field drawn."""
    return {"fault": value} if isinstance(value, str) else value


class RandomChaos(BaseModel):
    """Faults drawn from the campaign seed: Poisson arrivals, exponential durations."""

    model_config = ConfigDict(extra="forbid")

    faults: list[Annotated[Fault, BeforeValidator(_name_to_template)]]
    mean_interval: Duration = 10.0
    mean_duration: Duration = 5.0


class AwsChaos(BaseModel):
    """What the FIS injector needs: the role FIS assumes, and the table's ARN when it is not
    the one built from the role's account, the region and `target.table`."""

    model_config = ConfigDict(extra="forbid")

    role_arn: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    table_arn: str | None = None

    @field_validator("tags")
    @classmethod
    def _no_tag_selection(cls, v: dict[str, str]) -> dict[str, str]:
        if v:
            raise ValueError(
                "selecting the table by tags is refused: FIS would pause replication of every "
                "table carrying these tags in the region, not only the campaign's; hothot selects "
                "the campaign's table by its ARN (set chaos.aws.table_arn if it is not "
                "arn:<partition>:dynamodb:<region>:<role's account>:table/<target.table>)"
            )
        return v


class ChaosSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faults: list[Fault] = Field(default_factory=list)
    random: RandomChaos | None = None
    aws: AwsChaos | None = None

    _list_form: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def _accept_list(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> ChaosSpec:
        if not isinstance(data, list):
            return handler({} if data is None else data)
        try:
            spec = handler({"faults": data})
        except ValidationError as err:  # report list-form errors at chaos[i], not chaos.faults[i]
            details = [
                InitErrorDetails(type=e["type"], loc=tuple(e["loc"][1:]), input=e["input"])  # type: ignore[typeddict-item]
                | ({"ctx": e["ctx"]} if "ctx" in e else {})  # type: ignore[operator]
                for e in err.errors()
            ]
            raise ValidationError.from_exception_data(err.title, details) from None
        spec._list_form = True
        return spec

    def path(self, index: int) -> str:
        """Where explicit fault `index` sits in the campaign file."""
        return f"chaos[{index}]" if self._list_form else f"chaos.faults[{index}]"
