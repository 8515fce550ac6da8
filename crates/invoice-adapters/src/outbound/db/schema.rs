//! Diesel table definitions shared by the SQLite and PostgreSQL schemas.
//!
//! Both migrations create the same tables with the same column types, so one
//! definition (with the SQL types the two backends share) serves both.

diesel::table! {
    /// Tenants: the unit of isolation.
    tenants (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
        settings -> Text,
    }
}

diesel::table! {
    /// API keys, stored as SHA-256 hashes.
    api_keys (tenant_id, id) {
        tenant_id -> BigInt,
        id -> Text,
        key_hash -> Text,
        scopes -> Text,
        party_id -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One row per invoice; parties and records as JSON text.
    invoices (tenant_id, id) {
        tenant_id -> BigInt,
        id -> Text,
        serial -> BigInt,
        series -> Text,
        number_seq -> Nullable<BigInt>,
        number -> Nullable<Text>,
        status -> Text,
        currency -> Text,
        customer_id -> Text,
        issuer_id -> Nullable<Text>,
        customer -> Text,
        issuer -> Nullable<Text>,
        subtotal -> BigInt,
        tax -> BigInt,
        total -> BigInt,
        amount_paid -> BigInt,
        collection_method -> Text,
        next_payment_attempt -> Nullable<Timestamp>,
        collection_halted -> Bool,
        approval -> Text,
        cancellation -> Nullable<Text>,
        void_record -> Nullable<Text>,
        due_date -> Nullable<Date>,
        external_reference -> Nullable<Text>,
        metadata -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        issued_at -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
        uncollectible -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    /// Invoice lines.
    invoice_lines (tenant_id, invoice_id, id) {
        tenant_id -> BigInt,
        invoice_id -> Text,
        id -> Text,
        position -> Integer,
        product_id -> Nullable<Text>,
        variation_id -> Nullable<Text>,
        description -> Text,
        quantity -> BigInt,
        unit_amount -> BigInt,
        tax_rate -> BigInt,
        tax_inclusive -> Bool,
        status -> Text,
        net -> BigInt,
        tax -> BigInt,
        gross -> BigInt,
        tax_category -> Text,
        exemption_reason_code -> Nullable<Text>,
        exemption_reason -> Nullable<Text>,
        credited_quantity -> BigInt,
        credited_net -> BigInt,
        credited_tax -> BigInt,
        credited_gross -> BigInt,
        kind -> Nullable<Text>,
    }
}

diesel::table! {
    /// Payments received.
    payments (tenant_id, invoice_id, id) {
        tenant_id -> BigInt,
        invoice_id -> Text,
        id -> Text,
        position -> Integer,
        amount -> BigInt,
        method -> Nullable<Text>,
        reference -> Nullable<Text>,
        received_at -> Timestamp,
        source -> Text,
    }
}

diesel::table! {
    /// Refunds of payments.
    refunds (tenant_id, invoice_id, payment_id, id) {
        tenant_id -> BigInt,
        invoice_id -> Text,
        payment_id -> Text,
        id -> Text,
        amount -> BigInt,
        reason -> Nullable<Text>,
        refunded_at -> Timestamp,
        destination -> Text,
    }
}

diesel::table! {
    /// Credit notes.
    credit_notes (tenant_id, id) {
        tenant_id -> BigInt,
        id -> Text,
        invoice_id -> Text,
        series -> Text,
        number_seq -> BigInt,
        number -> Text,
        invoice_series -> Text,
        invoice_number_seq -> BigInt,
        invoice_number -> Text,
        invoice_issued_at -> Timestamp,
        currency -> Text,
        reason -> Nullable<Text>,
        subtotal -> BigInt,
        tax -> BigInt,
        total -> BigInt,
        issued_at -> Timestamp,
        settlement -> Text,
    }
}

diesel::table! {
    /// Credited lines.
    credit_note_lines (tenant_id, credit_note_id, position) {
        tenant_id -> BigInt,
        credit_note_id -> Text,
        line_id -> Nullable<Text>,
        position -> Integer,
        description -> Text,
        quantity -> BigInt,
        unit_amount -> BigInt,
        tax_rate -> BigInt,
        tax_inclusive -> Bool,
        net -> BigInt,
        tax -> BigInt,
        gross -> BigInt,
        tax_category -> Text,
        exemption_reason_code -> Nullable<Text>,
        exemption_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Gapless number series per tenant, document kind and prefix.
    number_series (tenant_id, kind, counter) {
        tenant_id -> BigInt,
        kind -> Text,
        counter -> Text,
        next_value -> BigInt,
    }
}

diesel::table! {
    /// The audit trail and webhook outbox.
    events (tenant_id, seq) {
        tenant_id -> BigInt,
        seq -> BigInt,
        id -> Text,
        invoice_id -> Text,
        event_type -> Text,
        actor_id -> Text,
        channel -> Text,
        occurred_at -> Timestamp,
        invoice_version -> BigInt,
        data -> Text,
        snapshot -> Text,
    }
}

diesel::table! {
    /// Stored responses of idempotent requests.
    idempotency_keys (tenant_id, api_key_id, key) {
        tenant_id -> BigInt,
        api_key_id -> Text,
        key -> Text,
        request_hash -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        content_type -> Nullable<Text>,
        created_at -> Timestamp,
        locked_until -> Timestamp,
    }
}

diesel::table! {
    /// Webhook endpoints: where a tenant wants its events POSTed.
    webhook_endpoints (tenant_id, id) {
        tenant_id -> BigInt,
        id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        active_since -> Timestamp,
        failed_deliveries -> BigInt,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// One delivery of one event to one endpoint, retried until it succeeds or fails for good.
    webhook_deliveries (tenant_id, id) {
        tenant_id -> BigInt,
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        status -> Text,
        attempt_count -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Every HTTP attempt of a delivery, for the delivery log.
    webhook_attempts (tenant_id, delivery_id, id) {
        tenant_id -> BigInt,
        delivery_id -> Text,
        id -> Text,
        attempt -> Integer,
        attempted_at -> Timestamp,
        duration_ms -> BigInt,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        response_body -> Nullable<Text>,
    }
}

diesel::table! {
    /// Per tenant, the event sequence below which every event has been fanned out.
    webhook_cursor (tenant_id) {
        tenant_id -> BigInt,
        last_seq -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Customers' credit balances, per tenant, customer and currency.
    customer_balances (tenant_id, customer_id, currency) {
        tenant_id -> BigInt,
        customer_id -> Text,
        currency -> Text,
        balance -> BigInt,
    }
}

diesel::table! {
    /// The ledger of every change of a customer's credit balance.
    balance_entries (tenant_id, seq) {
        tenant_id -> BigInt,
        seq -> BigInt,
        id -> Text,
        customer_id -> Text,
        currency -> Text,
        direction -> Text,
        amount -> BigInt,
        balance_after -> BigInt,
        invoice_id -> Text,
        credit_note_id -> Nullable<Text>,
        payment_id -> Nullable<Text>,
        refund_id -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    api_keys,
    invoices,
    invoice_lines,
    payments,
    refunds,
    credit_notes,
    credit_note_lines,
    number_series,
    events,
    idempotency_keys,
    customer_balances,
    balance_entries,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    webhook_cursor,
);
