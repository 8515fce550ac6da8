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

# When Flextell's path names the invoice by UUID, number or external
# reference, the body's `id` must be that invoice's integer id: a fact of the
# stored invoice, not of the request.
FLEXTELL_OTHER_INVOICE = "must be the integer id of the invoice the path names"

# ChargeOver documents 200, 400 and 401 only, so an unknown invoice and a
# refused void are 400s (with the reason in `details.code`), where a schema
# check expects 404 or 409.
CHARGEOVER_VOID = "/api/v3/invoice/{invoice_id}/_action/void"
CHARGEOVER_DECISIONS = {
    "invoice_not_found",
    "invoice_not_owned",
    "invoice_paid",
    "invoice_already_void",
    "invoice_already_cancelled",
    "invoice_is_draft",
    "invoice_has_payments",
    "invoice_approved",
}

# The documented form of an If-Match header (the contract's pattern).
IF_MATCH = re.compile(r'\*|(?:W/)?"[0-9]{1,19}"')

# An IBAN's check digits (ISO 13616, mod 97): a pattern states its shape,
# not its checksum.
IBAN_FIELD = "seller.payment_means.iban"
IBAN_INVALID = "is not a valid IBAN"

# The rules of a number format that a pattern cannot state: exactly one
# {SEQ}, a year with {MM} and a month with {DD}, nothing running into
# {SERIES} or {SEQ}. The server names each in its message.
NUMBER_FORMAT_FIELDS = {"invoice_number_format", "credit_note_number_format"}
NUMBER_FORMAT_RULES = (
    "must hold exactly one {SEQ} or {SEQ:n}",
    "needs a year with {MM} and a month with {DD}",
    "must separate {SERIES} and {SEQ} from what follows them",
    "pads {SEQ:n} to 1 to 12 digits",
)


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
    # A new dict, never the generated one changed in place: schemathesis may
    # share one headers dict between cases, and a key made valid here would
    # then be sent with a case that claims a malformed key.
    headers = dict(case.headers or {})
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and IDEMPOTENCY_KEY.fullmatch(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"
            case.headers = headers
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
        if errors and all(_too_large(e) or _number_format_rule(e) for e in errors):
            return False
        flextell = _problem(response).get("errors") or {}
        if case.path == FLEXTELL_CANCEL and isinstance(flextell, dict) and flextell.get("id") == [FLEXTELL_OTHER_INVOICE]:
            return False
    if code == "ST202" and status == 400 and _problem(response).get("code") == "invalid_if_match" and _bad_if_match(case):
        # Schemathesis labels some cases positive while sending an If-Match
        # outside the documented pattern (a bare `0`); its 400 is the contract.
        return False
    if code == "ST202" and status == 422:
        errors = _problem(response).get("errors") or []
        if errors and all(
            isinstance(e, dict) and e.get("field") == IBAN_FIELD and e.get("message") == IBAN_INVALID for e in errors
        ):
            return False
    if code == "ST202" and status == 400 and case.path == CHARGEOVER_VOID:
        details = _problem(response).get("details") or {}
        if isinstance(details, dict) and details.get("code") in CHARGEOVER_DECISIONS:
            return False
    if code == "ST201" and _whitespace_around_key(case):
        # HTTP drops whitespace around a header value (RFC 9110, 5.5), so the
        # server sees the well-formed key inside it.
        return False
    return True


def _number_format_rule(error):
    """True for a number-format rule no pattern can state."""
    return (
        isinstance(error, dict)
        and error.get("field") in NUMBER_FORMAT_FIELDS
        and str(error.get("message", "")).startswith(NUMBER_FORMAT_RULES)
    )


def _whitespace_around_key(case):
    """True when the Idempotency-Key is a well-formed key padded with spaces or tabs."""
    for name, value in (case.headers or {}).items():
        if name.lower() == "idempotency-key" and isinstance(value, str):
            inner = value.strip(" \t")
            return inner != value and IDEMPOTENCY_KEY.fullmatch(inner) is not None
    return False


def _bad_if_match(case):
    """True when the If-Match header sent is outside the documented pattern."""
    for name, value in (case.headers or {}).items():
        if name.lower() == "if-match" and isinstance(value, str):
            return IF_MATCH.fullmatch(value) is None
    return False
