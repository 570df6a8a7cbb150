"""Property-based tests of the REST gateway from its own OpenAPI document (schemathesis).

Every operation gets a bounded number of generated requests against a real ``carbonx demo``
process, with a participant's key; no answer may be a 5xx and every answer must match the
schema the document gives for its status. schemathesis is in the ``test`` extra: without it
this module fails to import rather than skipping.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from exchange.api.app import create_app
from tests.api.server import DemoServer, start_demo

MAX_EXAMPLES = 25
# What the demo holds: half of the generated requests name these, so they get past the key's
# market check (403) and the lookups (404) into the market itself.
DEMO_PATH = {"market_id": "demo", "symbol": "CEA2025", "account_id": "P001"}


def aim(case: Case[Any], data: st.DataObject) -> None:
    path = case.path_parameters or {}
    for name in path.keys() & DEMO_PATH.keys():
        path[name] = DEMO_PATH[name]
    if "order_id" in path:
        path["order_id"] = data.draw(st.integers(1, 40), label="order_id")
    if isinstance(case.body, dict) and "symbol" in case.body:
        case.body["symbol"] = DEMO_PATH["symbol"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("schema") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def api_schema(server: DemoServer) -> OpenApiSchema:
    document = httpx.get(server.base_url + "/openapi.json", timeout=10.0).json()
    return schemathesis.openapi.from_dict(document)


def operation_ids() -> list[str]:
    """The operations the app declares (built in-process: no lifespan, no server)."""
    return ids_of(create_app().openapi())


def ids_of(document: Mapping[str, Any]) -> list[str]:
    return [op["operationId"] for path in document["paths"].values() for op in path.values()]


OPERATIONS = operation_ids()


def test_the_server_serves_the_document_of_the_app(api_schema: OpenApiSchema) -> None:
    assert ids_of(api_schema.raw_schema) == OPERATIONS


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_operation_answers_within_its_schema(
    operation_id: str, api_schema: OpenApiSchema, server: DemoServer
) -> None:
    operation = api_schema.find_operation_by_id(operation_id)
    # Each example is sent with one of the three kinds of key, so an operation is exercised
    # beyond its role check whoever may call it.
    keys = [
        server.keys["participants"]["P001"],
        server.keys["operator_key"],
        server.keys["exchange_operator_key"],
    ]

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_schema(case: Case[Any], data: st.DataObject) -> None:
        if data.draw(st.booleans(), label="aimed at the demo market"):
            aim(case, data)
        key = data.draw(st.sampled_from(keys), label="key")
        case.call_and_validate(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {key}"},
            checks=[not_a_server_error, response_schema_conformance],
            timeout=10.0,
        )

    answers_within_schema()
