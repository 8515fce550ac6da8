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

# The operations endpoints are mounted with `cfg.route(path, web::get())` in
# the HTTP adapter's `routes`, so another method on them falls through to the
# 404 `route_not_found` fallback instead of answering 405 with `Allow` as the
# `/v1` routes do. Remove this once they are mounted as resources with a 405
# fallback (`problem::method_not_allowed`).
GET_ONLY_OPERATIONS = {"/healthz", "/readyz", "/metrics"}


@schemathesis.hook
def before_call(context, case, kwargs):
    """Makes every well-formed Idempotency-Key unique, in every phase.

    A key names one request: the same key with another body is refused with
    422 `idempotency_key_reused` (as the IETF idempotency-key draft asks).
    The generator draws keys like "0" again and again, so without this most
    writes would test only that refusal. Malformed keys are left alone so
    that their 400 is still exercised.
    """
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and IDEMPOTENCY_KEY.fullmatch(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"


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


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure except the ones named below (False drops it)."""
    code = getattr(failure, "code", None)
    _log(code, case, response)
    status = getattr(response, "status_code", None)
    if code == "ST204" and case.path in GET_ONLY_OPERATIONS:
        return False
    if code == "ST202" and status == 413:
        # Schema-valid, but over the documented 64 KiB body limit (e.g. 5,000
        # lines): JSON Schema cannot bound a body's size in bytes.
        return False
    if code == "ST202" and status == 422:
        errors = _problem(response).get("errors") or []
        if errors and all(isinstance(e, dict) and e.get("message") == LINE_TOO_LARGE for e in errors):
            return False
    return True
