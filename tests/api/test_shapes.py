"""The client's TypedDicts (``exchange/client/*types.py``) against the server's shapes.

Each shape is written twice: a pydantic model on the server and a TypedDict in the client,
which imports nothing from the server. The server side is read from the app's OpenAPI document
(``components.schemas``), so it does not matter which module defines a model. A client type is
matched to the component of the same name (``SERVER_NAMES`` where the names differ) and the two
must have the same fields, each of the same type and equally optional. A client type with no
server shape fails too, so a new one cannot escape the check.

Types are compared as JSON sees them: a date is a string; a client ``str`` may stand for a
server enumeration (the client spells enumerations as their string values), but a client
``Literal`` must name exactly the server's values.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
import typing
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict, Union

import pytest

import exchange.client
from exchange.api.app import create_app
from exchange.client import Client, Operation

# Client type name -> server component name, where they differ (none today).
SERVER_NAMES: dict[str, str] = {}

# A shape, as JSON sees it: the set of its alternatives (``int | None`` has two). An alternative
# is ("int",), ("str",), ("float",), ("bool",), ("null",), ("any",), ("literal", values),
# ("list", shape), ("dict", shape) or ("object", component name).
Alternative = tuple[Any, ...]
Shape = frozenset[Alternative]
Fields = dict[str, tuple[Shape, bool]]  # field -> (shape, required)

ANY: Shape = frozenset({("any",)})
SCALARS = {int: "int", str: "str", float: "float", bool: "bool", type(None): "null"}
JSON_SCALARS = {"integer": "int", "string": "str", "number": "float", "boolean": "bool"}


# ------------------------------------------------------------------------- the client side


def client_types() -> dict[str, type]:
    """Every TypedDict defined in a module of ``exchange.client``, by name."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(exchange.client.__path__):
        module = importlib.import_module(f"exchange.client.{info.name}")
        for name, value in vars(module).items():
            if typing.is_typeddict(value) and value.__module__ == module.__name__:
                assert name not in found, f"two client types named {name}"
                found[name] = value
    return found


def client_fields(typed_dict: type) -> Fields:
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    total = typed_dict.__required_keys__  # type: ignore[attr-defined]
    return {
        name: (client_shape(hint), required(hint, name in total)) for name, hint in hints.items()
    }


def required(hint: Any, otherwise: bool) -> bool:
    """Whether a field is required: ``Required[...]`` and ``NotRequired[...]`` read from the
    annotation itself, since under ``from __future__ import annotations`` Python 3.11 leaves
    them out of ``__required_keys__`` (the class's totality is all it knows there)."""
    origin = typing.get_origin(hint)
    return True if origin is Required else False if origin is NotRequired else otherwise


def client_shape(hint: Any) -> Shape:
    """The shape of a type annotation."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return frozenset(alt for arg in typing.get_args(hint) for alt in client_shape(arg))
    if origin in (Required, NotRequired, Annotated):
        return client_shape(typing.get_args(hint)[0])
    if origin is Literal:
        return frozenset({literal(typing.get_args(hint))})
    if origin is list:
        return frozenset({("list", client_shape(typing.get_args(hint)[0]))})
    if origin is dict:
        return frozenset({("dict", client_shape(typing.get_args(hint)[1]))})
    if hint is Any:
        return ANY
    if typing.is_typeddict(hint):
        return frozenset({("object", SERVER_NAMES.get(hint.__name__, hint.__name__))})
    if hint in SCALARS:
        return frozenset({(SCALARS[hint],)})
    raise AssertionError(f"no JSON shape for the annotation {hint!r}")


def literal(values: typing.Iterable[Any]) -> Alternative:
    # Typed: True == 1 in Python, but not in JSON.
    return ("literal", frozenset((type(v).__name__, v) for v in values))


# ------------------------------------------------------------------------- the server side


@cache
def document() -> Mapping[str, Any]:
    """The app's OpenAPI document (built in-process: no lifespan, no server)."""
    return create_app().openapi()


def components() -> Mapping[str, Any]:
    schemas: Mapping[str, Any] = document()["components"]["schemas"]
    return schemas


def server_fields(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Fields:
    required = set(schema.get("required", ()))
    return {
        name: (server_shape(prop, schemas), name in required)
        for name, prop in schema.get("properties", {}).items()
    }


def server_shape(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Shape:
    """The shape of a JSON schema, components referred to by name."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        target = schemas[name]
        if "properties" in target:
            return frozenset({("object", name)})
        return server_shape(target, schemas)  # an enumeration: its values
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            if combined == "allOf":
                assert len(schema["allOf"]) == 1, f"allOf of several schemas: {schema}"
            return frozenset(a for part in schema[combined] for a in server_shape(part, schemas))
    if "const" in schema:
        return frozenset({literal([schema["const"]])})
    if "enum" in schema:
        return frozenset({literal(schema["enum"])})
    kind = schema.get("type")
    if kind is None:
        return ANY
    if kind == "null":
        return frozenset({("null",)})
    if kind == "array":
        return frozenset({("list", server_shape(schema.get("items", {}), schemas))})
    if kind == "object":
        values = schema.get("additionalProperties", True)
        value = ANY if values is True else server_shape(values, schemas)
        return frozenset({("dict", value)})
    return frozenset({(JSON_SCALARS[kind],)})


# ------------------------------------------------------------------------- the comparer


def differences(shape: str, client: Fields, server: Fields) -> list[str]:
    """What differs between the two sides of ``shape``, one line per field."""
    found: list[str] = []
    for name in sorted(client.keys() | server.keys()):
        if name not in server:
            found.append(f"{shape}.{name}: in the client, not on the server")
        elif name not in client:
            found.append(f"{shape}.{name}: on the server, not in the client")
        else:
            (ours, our_required), (theirs, their_required) = client[name], server[name]
            if not agrees(ours, theirs):
                found.append(f"{shape}.{name}: client {show(ours)}, server {show(theirs)}")
            if our_required != their_required:
                found.append(
                    f"{shape}.{name}: {required_text(our_required)} in the client, "
                    f"{required_text(their_required)} on the server"
                )
    return found


def agrees(client: Shape, server: Shape) -> bool:
    return all(any(same(c, s) for s in server) for c in client) and all(
        any(same(c, s) for c in client) for s in server
    )


def same(client: Alternative, server: Alternative) -> bool:
    if client == server:
        return True
    if client == ("str",) and server[0] == "literal":
        return all(kind == "str" for kind, _ in server[1])  # an enumeration as plain text
    if client[0] == server[0] and client[0] in ("list", "dict"):
        return agrees(client[1], server[1])
    return False


def show(shape: Shape) -> str:
    return " | ".join(sorted(show_one(alt) for alt in shape))


def show_one(alt: Alternative) -> str:
    match alt:
        case ("literal", values):
            return f"Literal[{', '.join(sorted(repr(v) for _, v in values))}]"
        case ("list", item):
            return f"list[{show(item)}]"
        case ("dict", value):
            return f"dict[str, {show(value)}]"
        case ("object", name):
            return str(name)
        case (scalar,):
            return "None" if scalar == "null" else str(scalar)
    raise AssertionError(alt)


def required_text(required: bool) -> str:
    return "required" if required else "optional"


def shape_differences(name: str, typed_dict: type) -> list[str]:
    server_name = SERVER_NAMES.get(name, name)
    schema = components().get(server_name)
    if schema is None or "properties" not in schema:
        return [f"{name}: no server shape named {server_name} (add it to SERVER_NAMES?)"]
    return differences(name, client_fields(typed_dict), server_fields(schema, components()))


# ------------------------------------------------------------------------- the tests

CLIENT_TYPES = client_types()


def test_the_client_has_its_types() -> None:
    assert {"Order", "ComplianceStatus", "ClockView", "Holdings", "TrueUp"} <= CLIENT_TYPES.keys()


@pytest.mark.parametrize("name", sorted(CLIENT_TYPES))
def test_a_client_type_has_the_server_shape_of_its_name(name: str) -> None:
    found = shape_differences(name, CLIENT_TYPES[name])
    assert not found, "\n".join(found)


def test_the_mapping_names_only_client_types() -> None:
    assert SERVER_NAMES.keys() <= CLIENT_TYPES.keys()


def operations() -> Iterator[tuple[str, Any]]:
    """(operation id, the client type its method answers) for every client method."""
    for name in dir(Client):
        method = getattr(Client, name)
        if isinstance(method, Operation):
            call = typing.get_type_hints(method.build)["return"]
            yield method.operation_id, typing.get_args(call)[0]


def test_each_method_answers_the_type_of_its_operations_reply() -> None:
    """A method typed with a client type must call an operation whose success reply is that
    shape (by name); so a method cannot be typed with the wrong, if well-matched, type."""
    replies: dict[str, str] = {}
    for path in document()["paths"].values():
        for op in path.values():
            for status, response in op["responses"].items():
                ref = response.get("content", {}).get("application/json", {}).get("schema", {})
                if status.startswith("2") and "$ref" in ref:
                    replies[op["operationId"]] = ref["$ref"].rsplit("/", 1)[-1]
    typed = 0
    for operation_id, answer in operations():
        if typing.is_typeddict(answer):
            typed += 1
            ours = SERVER_NAMES.get(answer.__name__, answer.__name__)
            theirs = replies.get(operation_id)
            assert ours == theirs, (
                f"{operation_id}: the client's method answers {ours}, the server's reply is "
                f"{theirs}"
            )
    assert typed, "no method is typed with a client type: the introspection is broken"


# -------------------------------------------------------------- the comparer on wrong pairs


class GoodFill(TypedDict):
    trade_id: int
    price_fen: int
    qty_t: int


class WrongFill(TypedDict):
    """The server's ``Fill`` (trade_id, price_fen, qty_t: required integers), written wrong."""

    trade_id: str  # an int on the server
    price_fen: int | None  # not nullable on the server
    qty_t: NotRequired[int]  # required on the server
    fee_fen: int  # no such field on the server


class ShortFill(TypedDict):
    trade_id: int
    price_fen: int


class WrongOrder(TypedDict):
    side: Literal["buy", "sell", "short"]  # a value the server's enumeration lacks
    status: str  # an enumeration as text: allowed
    fills: list[str]  # a list of Fill on the server
    cancel_reason: str  # optional and nullable on the server


def test_the_comparer_finds_each_kind_of_difference() -> None:
    fill = server_fields(components()["Fill"], components())
    assert differences("Fill", client_fields(GoodFill), fill) == []
    assert differences("Fill", client_fields(WrongFill), fill) == [
        "Fill.fee_fen: in the client, not on the server",
        "Fill.price_fen: client None | int, server int",
        "Fill.qty_t: optional in the client, required on the server",
        "Fill.trade_id: client str, server int",
    ]
    assert differences("Fill", client_fields(ShortFill), fill) == [
        "Fill.qty_t: on the server, not in the client"
    ]


def test_the_comparer_reads_enumerations_lists_and_references_from_a_schema() -> None:
    schemas: dict[str, Any] = {
        "Side": {"type": "string", "enum": ["buy", "sell"]},
        "Status": {"type": "string", "enum": ["new", "filled"]},
        "Fill": {"type": "object", "properties": {"trade_id": {"type": "integer"}}},
        "Order": {
            "type": "object",
            "required": ["side", "status", "fills"],
            "properties": {
                "side": {"$ref": "#/components/schemas/Side"},
                "status": {"$ref": "#/components/schemas/Status"},
                "fills": {"type": "array", "items": {"$ref": "#/components/schemas/Fill"}},
                "cancel_reason": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        },
    }
    found = differences(
        "WrongOrder", client_fields(WrongOrder), server_fields(schemas["Order"], schemas)
    )
    assert found == [
        "WrongOrder.cancel_reason: client str, server None | str",
        "WrongOrder.cancel_reason: required in the client, optional on the server",
        "WrongOrder.fills: client list[str], server list[Fill]",
        "WrongOrder.side: client Literal['buy', 'sell', 'short'], server Literal['buy', 'sell']",
    ]


def test_a_client_type_without_a_server_shape_fails() -> None:
    assert shape_differences("GoodFill", GoodFill) == [
        "GoodFill: no server shape named GoodFill (add it to SERVER_NAMES?)"
    ]
