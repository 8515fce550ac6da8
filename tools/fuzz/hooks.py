"""Schemathesis hooks for fuzzing the Storno API (loaded by tools/fuzz/run.sh).

The OpenAPI document states every per-field rule the server enforces. The few
things a JSON schema cannot state are handled here, each one named and
narrow, so that everything else still fails the run. Dropped failures are
counted in schemathesis' summary ("dropped by `filter_failure`"); set
FUZZ_HOOKS_LOG to a file to list every failure the hooks saw.
"""

import json
import os
import re
import uuid

import schemathesis

# The documented form of an Idempotency-Key (the contract's pattern and maxLength).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?")

# The one cross-field limit of `POST /v1/invoices` (documented on
# `unit_amount`): quantity x unit_amount x 11 must stay within 10^15 minor
# units, so that no line total can overflow. JSON Schema cannot bound a product.
LINE_TOO_LARGE = "quantity × unit_amount is too large"

# The other cross-field limit of `POST /v1/invoices` (documented on `lines`):
# the lines' gross amounts must sum to at most 10^15 minor units. JSON Schema
# cannot bound a sum over array items either.
DOCUMENT_TOO_LARGE = "the invoice total must be at most"

# Flextell's cancel repeats the path id in its body (`{"id": n}`) and refuses
# a mismatch with 422. JSON Schema cannot relate a body to a path parameter.
FLEXTELL_CANCEL = "/api/v1/invoices/{id}/cancel"

# The document routes (and finalize, when the tenant sets require_en16931)
# answer 422 `document_incomplete` when the stored invoice lacks what EN 16931
# requires: a fact of the data stored earlier, not of the request, so no
# schema of the request can state it.
DOCUMENT_INCOMPLETE = "document_incomplete"
MAX_I64 = 2**63 - 1


@schemathesis.hook
def before_call(context, case, kwargs):
    """Makes every well-formed Idempotency-Key unique, in every phase, and
    gives Flextell's cancel the same id in its path and body.

    A key names one request: the same key with another body is refused with
    422 `idempotency_key_reused` (as the IETF idempotency-key draft asks).
    The generator draws keys like "0" again and again, so without this most
    writes would test only that refusal. Malformed keys are left alone so
    that their 400 is still exercised.
    """
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and IDEMPOTENCY_KEY.fullmatch(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"
    if case.path == FLEXTELL_CANCEL:
        _same_flextell_id(case)


def _positive_id(value):
    """The value as a Flextell id (an integer from 1 to 2^63 - 1), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= MAX_I64 else None


def _same_flextell_id(case):
    """Copies a well-formed path id into a well-formed body id.

    Without this almost every generated cancel names two different ids and
    only tests the mismatch refusal. Malformed ids are left alone, so their
    400 and 422 are still exercised.
    """
    body = case.body
    path_id = _positive_id((case.path_parameters or {}).get("id"))
    if path_id is not None and isinstance(body, dict) and _positive_id(body.get("id")) is not None:
        body["id"] = path_id


def _problem(response):
    if response is None:
        return {}
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _log(code, case, response):
    path = os.environ.get("FUZZ_HOOKS_LOG")
    if path:
        status = getattr(response, "status_code", None)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{code} {case.method} {case.path} {status} {_problem(response).get('code')}\n")


def _too_large(error):
    """True for the two amount bounds no JSON schema can state."""
    if not isinstance(error, dict):
        return False
    message = str(error.get("message", ""))
    return message == LINE_TOO_LARGE or (error.get("field") == "lines" and message.startswith(DOCUMENT_TOO_LARGE))


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure except the ones named below (False drops it)."""
    code = getattr(failure, "code", None)
    _log(code, case, response)
    status = getattr(response, "status_code", None)
    if code == "ST202" and status == 413:
        # Schema-valid, but over the documented 64 KiB body limit (e.g. 5,000
        # lines): JSON Schema cannot bound a body's size in bytes.
        return False
    if code == "ST202" and status == 422 and _problem(response).get("code") == DOCUMENT_INCOMPLETE:
        return False
    if code == "ST202" and status == 422:
        errors = _problem(response).get("errors") or []
        if errors and all(_too_large(e) for e in errors):
            return False
    return True
