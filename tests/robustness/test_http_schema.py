"""The web door's HTTP surface against its own ``/openapi.json``, driven by schemathesis.

For each app's server, every operation the document lists gets requests built
from the document (valid ones, and invalid ones: wrong types, missing fields,
odd bodies), with the token. Every answer must be within the document: not a
5xx, a status it lists, JSON where it says JSON, a body matching the schema of
that status. The run is bounded (``DESKBRIDGE_SCHEMA_EXAMPLES`` per operation
and mode); hypothesis shrinks a failure to its smallest request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, Final

import pytest
from hypothesis import given, settings

from tests.robustness.support import FUZZ_SETTINGS, record
from tests.webserver import WebServer

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

Serve = Callable[..., WebServer]
EXAMPLES: Final = int(os.environ.get("DESKBRIDGE_SCHEMA_EXAMPLES", "15"))
CHECKS: Final = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES: Final = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def numeric_id(case: Any) -> bool:
    """A command whose ``id`` is a number: the known bug below, kept out of the general run until it is fixed."""
    body = case.body if isinstance(case.body, dict) else None
    return body is not None and type(body.get("id")) in (int, float)


def exercise(operation: Any, mode: Any, server: WebServer, sent: list[int]) -> None:
    """Up to ``EXAMPLES`` requests of ``mode`` to ``operation``; raises the (shrunk) first failure."""

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode).filter(lambda case: not numeric_id(case)))
    def run(case: Any) -> None:
        sent.append(1)
        response = case.call(base_url=server.url, headers=server.headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("app", ["studio", "guardian"])
def test_every_answer_is_in_the_openapi_document_and_none_is_a_5xx(app: str, serve: Serve) -> None:
    server = serve(app)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", headers=server.headers, timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    sent: list[int] = []
    for operation in operations:
        for mode in MODES:
            try:
                exercise(operation, mode, server, sent)
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert server.proc is not None
    assert server.proc.poll() is None, "the server died under the requests"
    errors = [line for line in server.stderr_lines if '"level": "error"' in line]
    record(
        f"http.schema.{app}",
        operations=len(operations),
        requests=len(sent),
        failures=len(failures),
        server_errors_logged=len(errors),
    )
    assert not failures, "\n\n".join(failures)
    assert not errors, "\n".join(json.loads(line)["message"] for line in errors[:5])


def test_the_answer_to_a_numeric_id_is_in_the_document(serve: Serve) -> None:
    """Found with DESKBRIDGE_SCHEMA_EXAMPLES=150: the document is wrong, not the answer."""
    server = serve("diag")
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", headers=server.headers, timeout=30)
    case = schema["/api/command"]["POST"].Case(body={"id": 7, "type": "PING"}, media_type="application/json")
    response = case.call(base_url=server.url, headers=server.headers, timeout=30)
    assert response.status_code == 400
    case.validate_response(response, checks=CHECKS)
