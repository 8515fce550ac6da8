"""Schemathesis hooks for fuzzing the Storno API (loaded by tools/fuzz/run.sh).

The OpenAPI document states every per-field rule the server enforces. What a
JSON schema cannot state is handled here, each rule named and narrow, so that
everything else still fails the run.
"""

import json
import os
import re
import uuid

import schemathesis

# The documented form of an Idempotency-Key (the contract's pattern and maxLength).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?")


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
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


# The only cross-field limit on `POST /v1/invoices` (documented on
# `unit_amount`): quantity x unit_amount x 11 must stay within 10^15 minor
# units, so that no line total can overflow. JSON Schema cannot bound a product.
LINE_TOO_LARGE = "quantity × unit_amount is too large"


# The operations endpoints are mounted with `cfg.route(path, web::get())` in
# the HTTP adapter's `routes`, so another method on them falls through to the
# 404 `route_not_found` fallback instead of answering 405 with `Allow` as the
# `/v1` routes do. Remove this entry once they are mounted as resources with
# a 405 fallback.
GET_ONLY_OPERATIONS = {"/healthz", "/readyz", "/metrics"}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Drops only the failures listed here; returns False to drop."""
    code = getattr(failure, "code", None)
    if os.environ.get("FUZZ_HOOKS_LOG"):
        with open(os.environ["FUZZ_HOOKS_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{code} {case.method} {case.path} {getattr(response, 'status_code', None)} {_problem(response).get('code') if response is not None else ''}\n")
    if code == "ST204" and case.path in GET_ONLY_OPERATIONS:
        return False
    if code == "ST202" and response is not None and response.status_code == 413:
        # Schema-valid, but over the documented 64 KiB body limit (e.g. 5,000
        # lines): JSON Schema cannot bound a body's size in bytes.
        return False
    if code == "ST202" and response is not None and response.status_code == 422:
        problem = _problem(response)
        errors = problem.get("errors") or []
        # Schema-valid lines whose product breaks the cross-field limit.
        if errors and all(isinstance(e, dict) and e.get("message") == LINE_TOO_LARGE for e in errors):
            return False
    return True
