"""DynamoDB answers decoded exactly as boto3 decodes them, driven by botocore's service model.

botocore's JSON parser walks every answer through the operation's output shape and converts a
few leaf types (blobs and timestamps in botocore 1.4x). Walking every answer in Python costs
more than the call itself, so this module compiles, once per operation, a walker that visits
only the members under which a converted leaf can sit, and skips the walk altogether when none
of those leaves' member names occurs in the body. Which leaf types convert is read off
botocore's parser class (the `_handle_<type>` methods it defines) and where they sit off the
loaded model, with botocore's own handlers doing the conversion: a member that a new botocore
release adds is decoded as boto3 decodes it, with no change here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.parsers import ResponseParser, create_parser
from botocore.session import get_session

Walk = Callable[[Any], Any]
_CONTAINERS = frozenset({"structure", "list", "map"})


def converted_leaf_types(parser: ResponseParser, model: ServiceModel) -> frozenset[str]:
    """The leaf types of `model` that `parser` converts (it has a `_handle_<type>` for them)."""
    kinds = {model.shape_for(name).type_name for name in model.shape_names}
    return frozenset(k for k in kinds - _CONTAINERS if hasattr(parser, f"_handle_{k}"))


def _children(shape: Shape) -> list[tuple[str, Shape]]:
    if isinstance(shape, StructureShape):
        return list(shape.members.items())
    if isinstance(shape, ListShape):
        return [("[]", shape.member)]
    if isinstance(shape, MapShape):
        return [("{}", shape.value)]
    return []


class AnswerDecoder:
    """Per operation: a walker over the output shape that converts leaves in place, and the
    member names (as they appear in the JSON body) whose presence makes the walk necessary."""

    def __init__(self, model: ServiceModel | None = None) -> None:
        self.model = model or get_session().get_service_model("dynamodb")
        self._parser = create_parser("json")
        self.leaf_types = converted_leaf_types(self._parser, self.model)
        self._converts = self._shapes_that_convert()
        self._walks: dict[str, Walk] = {}
        self._plans: dict[str, tuple[tuple[bytes, ...], Walk | None]] = {}
        self._outputs: dict[str, str | None] = {}

    def _shapes_that_convert(self) -> set[str]:
        """Names of the shapes under which a converted leaf sits (a fixpoint: shapes recurse)."""
        shapes = [self.model.shape_for(n) for n in self.model.shape_names]
        converts = {s.name for s in shapes if s.type_name in self.leaf_types}
        grew = True
        while grew:
            grew = False
            for shape in shapes:
                if shape.name not in converts and any(
                    child.name in converts for _, child in _children(shape)
                ):
                    converts.add(shape.name)
                    grew = True
        return converts

    def _walk(self, shape: Shape) -> Walk:
        """The in-place converter of one shape (compiled once; recursive shapes look their own
        walker up lazily, so AttributeValue's M and L need no depth limit)."""
        cached = self._walks.get(shape.name)
        if cached is not None:
            return cached
        if shape.type_name in self.leaf_types:
            handle = getattr(self._parser, f"_handle_{shape.type_name}")
            walk: Walk = lambda value, s=shape: handle(s, value)  # noqa: E731
        elif isinstance(shape, StructureShape):
            walk = self._structure_walk(shape)
        elif isinstance(shape, ListShape):
            walk = self._list_walk(shape.member.name)
        else:
            assert isinstance(shape, MapShape), shape.type_name
            walk = self._map_walk(shape.value.name)
        self._walks[shape.name] = walk
        return walk

    def _lazy(self, shape: Shape) -> Walk:
        return lambda value: self._walk(shape)(value)

    def _structure_walk(self, shape: StructureShape) -> Walk:
        members = [
            (m.serialization.get("name", name), name, self._lazy(m))
            for name, m in shape.members.items()
            if m.name in self._converts
        ]

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                for wire, name, convert in members:
                    value = node.get(wire)
                    if value is not None:
                        if wire != name:
                            del node[wire]
                        node[name] = convert(value)
            return node

        return walk

    def _list_walk(self, member: str) -> Walk:
        convert = self._lazy(self.model.shape_for(member))

        def walk(node: Any) -> Any:
            if isinstance(node, list):
                node[:] = [None if v is None else convert(v) for v in node]
            return node

        return walk

    def _map_walk(self, value: str) -> Walk:
        convert = self._lazy(self.model.shape_for(value))

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                for key, v in node.items():
                    node[key] = convert(v)
            return node

        return walk

    def _triggers(self, shape: Shape) -> tuple[bytes, ...]:
        """`"Name"` of every structure member whose shape is a converted leaf or a list/map of
        them, anywhere under `shape`: a body containing none of them needs no walk."""
        names: set[str] = set()
        seen: set[str] = set()
        stack = [shape]
        while stack:
            current = stack.pop()
            if current.name in seen or current.name not in self._converts:
                continue
            seen.add(current.name)
            for name, child in _children(current):
                if child.name not in self._converts:
                    continue
                under = child  # the nearest member name above a leaf is in the body with it
                while isinstance(under, ListShape | MapShape):
                    under = under.member if isinstance(under, ListShape) else under.value
                if under.type_name in self.leaf_types and isinstance(current, StructureShape):
                    names.add(child.serialization.get("name", name))
                stack.append(child)
        return tuple(orjson.dumps(n) for n in sorted(names))

    def plan(self, shape_name: str) -> tuple[tuple[bytes, ...], Walk | None]:
        """(triggers, walker) for a shape; walker None when nothing under it converts."""
        found = self._plans.get(shape_name)
        if found is None:
            shape = self.model.shape_for(shape_name)
            found = (
                (self._triggers(shape), self._walk(shape))
                if shape.name in self._converts
                else ((), None)
            )
            self._plans[shape_name] = found
        return found

    def output_shape(self, operation: str) -> str | None:
        try:
            return self._outputs[operation]
        except KeyError:
            output = self.model.operation_model(operation).output_shape
            name = self._outputs[operation] = None if output is None else output.name
            return name

    def decode(self, operation: str, body: bytes) -> dict[str, Any]:
        """A 200 answer of `operation` as boto3 returns it (without ResponseMetadata)."""
        answer: dict[str, Any] = orjson.loads(body) if body else {}
        shape = self.output_shape(operation)
        return self.convert(shape, answer, body) if shape else answer

    def convert(self, shape_name: str, doc: Any, body: bytes) -> Any:
        """Convert `doc` (parsed from `body`) in place along `shape_name`'s walker."""
        triggers, walk = self.plan(shape_name)
        if walk is not None and any(t in body for t in triggers):
            walk(doc)
        return doc

    def has_shape(self, name: str) -> bool:
        return name in self.model.shape_names
