//! The plug&paid invoice object, rendered from an invoice: amounts are
//! exact JSON numbers in the currency's major units, objects are filled
//! from the parties, and fields the data cannot supply are `null`.

use std::collections::BTreeMap;

use invoice_domain::{
    Amount, Currency, Invoice, InvoiceStatus, Line, LineKind, Party, PostalAddress, SellerProfile, TaxRate,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::inbound::http::dialects::common::{self, MajorUnits};

/// The plug&paid `status`: `new` while open and unpaid, `partially_paid`
/// once some money arrived, else the invoice's own status name.
pub fn status(invoice: &Invoice) -> &'static str {
    match invoice.status {
        InvoiceStatus::Open if invoice.amount_paid().is_zero() => "new",
        InvoiceStatus::Open => "partially_paid",
        other => other.as_str(),
    }
}

/// The plug&paid product `type` of a line kind.
fn product_type(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Physical => "physical_product",
        LineKind::Service => "service",
        LineKind::Digital => "digital_product",
        LineKind::Shipping => "shipping",
    }
}

/// The seller of the invoice as plug&paid's `merchant`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Merchant {
    /// Street.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Post code.
    pub postcode: Option<String>,
    /// Region or state.
    pub state: Option<String>,
    /// Telephone.
    pub telephone: Option<String>,
    /// VAT or tax number.
    pub vat: Option<String>,
}

impl Merchant {
    fn from_party(p: &Party) -> Self {
        let a = p.address.clone().unwrap_or_default();
        Merchant {
            address: a.street,
            city: a.city,
            country: a.country.map(|c| c.to_string()),
            email: p.email.clone(),
            name: Some(p.name.clone()),
            postcode: a.postcode,
            state: a.region,
            telephone: p.phone.clone(),
            vat: p.tax_number.clone(),
        }
    }

    fn from_seller(s: &SellerProfile) -> Self {
        let a = s.address.clone().unwrap_or_default();
        let contact = s.contact.clone().unwrap_or_default();
        Merchant {
            address: a.street,
            city: a.city,
            country: a.country.map(|c| c.to_string()),
            email: contact.email,
            name: s.name.clone(),
            postcode: a.postcode,
            state: a.region,
            telephone: contact.phone,
            vat: s.vat_id.as_ref().map(ToString::to_string),
        }
    }
}

/// A billing or shipping address of the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressObject {
    /// Street.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// plug&paid's own address id: none here.
    pub id: Option<String>,
    /// The customer's IP address: not recorded.
    pub ip: Option<String>,
    /// True when the customer has a tax number.
    pub is_company: bool,
    /// The customer's language.
    pub locale: Option<String>,
    /// Name.
    pub name: String,
    /// Always `address`.
    pub object: &'static str,
    /// Telephone.
    pub phone: Option<String>,
    /// Post code.
    pub postcode: Option<String>,
    /// A representative: not recorded.
    pub representative: Option<String>,
    /// True for the shipping address.
    pub shipping_address: bool,
    /// Region or state.
    pub state: Option<String>,
}

impl AddressObject {
    fn of(p: &Party, address: &PostalAddress, shipping: bool) -> Self {
        AddressObject {
            address: address.street.clone(),
            city: address.city.clone(),
            country: address.country.map(|c| c.to_string()),
            email: p.email.clone(),
            id: None,
            ip: None,
            is_company: p.tax_number.is_some(),
            locale: p.locale.clone(),
            name: p.name.clone(),
            object: "address",
            phone: p.phone.clone(),
            postcode: address.postcode.clone(),
            representative: None,
            shipping_address: shipping,
            state: address.region.clone(),
        }
    }
}

/// The customer as plug&paid's `customer_information`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerInformation {
    /// The billing address.
    pub billing_information: AddressObject,
    /// ISO 3166-1 alpha-2 of the billing address.
    pub country: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// The customer's party id.
    pub id: String,
    /// The customer's language.
    pub locale: Option<String>,
    /// Name.
    pub name: String,
    /// The shipping address, when the customer has one apart from the billing address.
    pub shipping_information: Option<AddressObject>,
    /// A Stripe customer id: not recorded.
    pub stripe_customer_id: Option<String>,
}

/// One tax rate applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxRateObject {
    /// The products it applies to (invoice-level entries only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<Vec<String>>,
    /// plug&paid's own tax rate id: none here.
    pub id: Option<String>,
    /// True when prices include the tax.
    pub inclusive: bool,
    /// The seller's country.
    pub jurisdiction: Option<String>,
    /// `VAT 19%`, with the EN 16931 category when it is not standard.
    pub label: String,
    /// Always false: no MOSS scheme.
    pub moss: bool,
    /// A fixed tax amount: none, taxes are rates.
    pub rate_amount: Option<MajorUnits>,
    /// The rate in percent, exact.
    #[schema(value_type = f64)]
    pub rate_percent: Value,
    /// The tax amount.
    pub tax: MajorUnits,
    /// Always true: the taxes are VAT.
    pub vat_tax: bool,
}

/// A product's or the invoice's taxes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductTaxes {
    /// True when the product's price includes tax.
    pub inclusive: bool,
    /// Taxes on shipping: none on a product.
    pub shipping_tax_rates: Vec<TaxRateObject>,
    /// The product's tax rate.
    pub tax_rates: Vec<TaxRateObject>,
}

/// A product's totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductTotals {
    /// Discounts: none.
    pub discount: MajorUnits,
    /// An exchange rate: none, one currency.
    pub exchange_rate: Option<String>,
    /// Quantity × unit price as entered (gross when tax-inclusive).
    pub item_total: MajorUnits,
    /// The gross.
    pub item_total_with_tax: MajorUnits,
    /// MOSS tax: none.
    pub moss_tax_total: MajorUnits,
    /// MOSS taxable amount: none.
    pub moss_taxable_amount: MajorUnits,
    /// Always false.
    pub price_conversion: bool,
    /// Shipping charged on the product: shipping is its own line here.
    pub shipping: MajorUnits,
    /// Shipping discount: none.
    pub shipping_discount: MajorUnits,
    /// Shipping net: none.
    pub shipping_subtotal: MajorUnits,
    /// Shipping tax: none.
    pub shipping_tax: MajorUnits,
    /// Shipping gross: none.
    pub shipping_total: MajorUnits,
    /// The net.
    pub subtotal: MajorUnits,
    /// The tax.
    pub tax: MajorUnits,
    /// The gross.
    pub total: MajorUnits,
    /// The unit price as entered.
    pub unit_price: MajorUnits,
}

/// One invoice line as a plug&paid product.
#[derive(Debug, Serialize, ToSchema)]
pub struct Product {
    /// A classification: not recorded.
    pub classification: Option<String>,
    /// The currency code.
    pub currency: String,
    /// Always false: no discounts.
    pub discount_allowed: bool,
    /// Discounts: none.
    #[schema(value_type = Vec<Object>)]
    pub discounts: Vec<Value>,
    /// An EAN: not recorded.
    pub ean: Option<String>,
    /// True for a shipping line.
    pub has_shipping: bool,
    /// The caller's product id.
    pub id: Option<String>,
    /// The line's own id, for cancelling it by `invoice_item_id`.
    pub invoice_item_id: String,
    /// Always false: no MOSS.
    pub is_moss_product: bool,
    /// True when the line names a variation.
    pub is_variant: bool,
    /// The description.
    pub name: String,
    /// A pack: not recorded.
    pub pack: Option<String>,
    /// Units.
    pub quantity: u32,
    /// Stock reservations: none.
    #[schema(value_type = Vec<Object>)]
    pub reservations: Vec<Value>,
    /// A SKU: not recorded.
    pub sku: Option<String>,
    /// `active` or `cancelled` (credited in full).
    pub status: &'static str,
    /// Its tax.
    pub taxes: ProductTaxes,
    /// Its amounts.
    pub totals: ProductTotals,
    /// `physical_product`, `service`, `digital_product` or `shipping`, from
    /// the line's kind; null when the line names none.
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    /// The caller's variation id.
    pub variation_id: Option<String>,
}

/// The invoice's totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceTotals {
    /// Discounts: none.
    pub discount: MajorUnits,
    /// Lines on the document.
    pub item_count: usize,
    /// Products (not shipping) as entered.
    pub item_total: MajorUnits,
    /// Products' gross.
    pub item_total_with_tax: MajorUnits,
    /// MOSS tax: none.
    pub moss_tax_total: MajorUnits,
    /// MOSS taxable amount: none.
    pub moss_taxable_amount: MajorUnits,
    /// Always false: one currency.
    pub price_conversion: bool,
    /// Shipping lines as entered.
    pub shipping: MajorUnits,
    /// Shipping discount: none.
    pub shipping_discount: MajorUnits,
    /// Shipping lines' net.
    pub shipping_subtotal: MajorUnits,
    /// Shipping lines' tax.
    pub shipping_tax: MajorUnits,
    /// Shipping lines' gross.
    pub shipping_total: MajorUnits,
    /// Products' net.
    pub subtotal: MajorUnits,
    /// Products' tax.
    pub tax: MajorUnits,
    /// The document's total, as issued: a cancel does not change it.
    pub total: MajorUnits,
    /// Trial deductions: none.
    pub trial_deductions: MajorUnits,
    /// Gateway fees: none.
    pub gateway_fees: MajorUnits,
    /// Affiliate revenue: none.
    pub affiliate_revenue: MajorUnits,
    /// What is still owed: the total less credit notes and net payments.
    pub amount_due: MajorUnits,
    /// Money refunded.
    pub refunded_total: MajorUnits,
    /// What credit notes took off the total (a cancel credits it all).
    pub credited_total: MajorUnits,
}

/// The invoice's taxes.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceTaxes {
    /// True when any line carries VAT.
    pub has_vat: bool,
    /// The shipping lines' rates.
    pub shipping_tax_rates: Vec<TaxRateObject>,
    /// The products' rates.
    pub tax_rates: Vec<TaxRateObject>,
}

/// Shipping.
#[derive(Debug, Serialize, ToSchema)]
pub struct Shipping {
    /// A carrier: not recorded.
    pub method: Option<String>,
    /// A tracking code: not recorded.
    pub tracking: Option<String>,
    /// True when the invoice has a shipping line.
    pub has_shipping: bool,
    /// Whether the goods left: not recorded, false.
    pub shipped: bool,
}

/// A refund of one of the invoice's payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundObject {
    /// The refund id.
    pub id: String,
    /// The payment refunded.
    pub payment_id: String,
    /// The amount.
    pub amount: MajorUnits,
    /// Why.
    pub reason: Option<String>,
    /// When, in Unix seconds.
    pub date: i64,
}

/// The plug&paid invoice object.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlugnpaidInvoice {
    /// The invoice's version: one more with every change.
    pub version: u64,
    /// The invoice's UUID.
    pub id: String,
    /// ISO 4217 code.
    pub currency: String,
    /// True once paid in full.
    pub paid: bool,
    /// Always `invoice`.
    pub object: &'static str,
    /// Always `custom`: not from a subscription.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The number's text before its sequence (`INV` of `INV-000052`);
    /// the series while a draft.
    pub prefix: String,
    /// The number's sequence (`52`); null while a draft.
    pub number: Option<u64>,
    /// The total as issued, in major units.
    pub total: MajorUnits,
    /// The method of the latest payment.
    pub payment: Option<String>,
    /// The issue date, in Unix seconds.
    pub date: Option<i64>,
    /// `new`, `partially_paid`, `paid`, `cancelled`, `void`, `uncollectible` or `draft`.
    pub status: &'static str,
    /// A subscription: none.
    pub subscription: Option<String>,
    /// Always false.
    pub is_instalment: bool,
    /// The seller: the invoice's issuer, else the seller frozen at finalize.
    pub merchant: Option<Merchant>,
    /// The customer's language, else the seller's.
    pub locale: String,
    /// The customer.
    pub customer_information: CustomerInformation,
    /// The lines, those credited in full included.
    pub products: Vec<Product>,
    /// Discounts: none.
    #[schema(value_type = Vec<Object>)]
    pub discounts: Vec<Value>,
    /// Licenses: none.
    #[schema(value_type = Vec<Object>)]
    pub licenses: Vec<Value>,
    /// A service period start: none.
    pub start_date: Option<i64>,
    /// A service period end: none.
    pub end_date: Option<i64>,
    /// Totals.
    pub totals: InvoiceTotals,
    /// Taxes.
    pub taxes: InvoiceTaxes,
    /// Shipping.
    pub shipping: Shipping,
    /// An affiliate program: none.
    pub affiliate_program: Option<String>,
    /// An affiliate partner: none.
    pub affiliate_partner: Option<String>,
    /// The due date at midnight UTC, in Unix seconds.
    pub due_date: Option<i64>,
    /// Refunds of its payments; null when there are none.
    pub refunds: Option<Vec<RefundObject>>,
    /// Consents: none.
    pub consents: Option<String>,
    /// An appendix: none.
    pub appendix: Option<String>,
}

/// The amounts a line adds to the object.
struct Sums {
    entered: Amount,
    net: Amount,
    tax: Amount,
    gross: Amount,
}

impl Sums {
    fn of<'a>(lines: impl Iterator<Item = &'a Line> + Clone) -> Sums {
        let sum = |f: fn(&Line) -> Amount| Amount::checked_sum(lines.clone().map(f)).unwrap_or(Amount::ZERO);
        Sums {
            entered: sum(entered),
            net: sum(|l| l.amounts.net),
            tax: sum(|l| l.amounts.tax),
            gross: sum(|l| l.amounts.gross),
        }
    }
}

/// `quantity × unit price` as entered: the gross of an inclusive line, the
/// net of an exclusive one.
fn entered(l: &Line) -> Amount {
    if l.tax_inclusive {
        l.amounts.gross
    } else {
        l.amounts.net
    }
}

/// What a product is called in `applies_to`: its product id, else its line id.
fn line_key(l: &Line) -> String {
    l.product_id
        .as_ref()
        .map_or_else(|| l.id.to_string(), ToString::to_string)
}

fn is_shipping(l: &Line) -> bool {
    l.kind == Some(LineKind::Shipping)
}

/// The whole plug&paid invoice object.
pub fn invoice_object(invoice: &Invoice) -> PlugnpaidInvoice {
    let currency = invoice.currency;
    let units = |a: Amount| MajorUnits::of(a, currency);
    let zero = || units(Amount::ZERO);
    let t = invoice.totals();
    let jurisdiction = invoice
        .issuer
        .as_ref()
        .and_then(|p| p.address.as_ref())
        .or_else(|| invoice.seller.as_ref().and_then(|s| s.address.as_ref()))
        .and_then(|a| a.country)
        .map(|c| c.to_string());
    let tax_rates = |lines: &mut dyn Iterator<Item = &Line>| -> Vec<TaxRateObject> {
        let mut groups: BTreeMap<(TaxRate, bool, &'static str), (Amount, Vec<String>)> = BTreeMap::new();
        for l in lines {
            let entry = groups
                .entry((l.tax.rate(), l.tax_inclusive, l.tax.category().code()))
                .or_default();
            entry.0 = Amount::checked_sum([entry.0, l.amounts.tax]).unwrap_or(entry.0);
            entry.1.push(line_key(l));
        }
        groups
            .into_iter()
            .map(|((rate, inclusive, category), (tax, applies_to))| TaxRateObject {
                applies_to: Some(applies_to),
                ..tax_rate(rate, inclusive, category, tax, currency, jurisdiction.clone())
            })
            .collect()
    };
    let goods = Sums::of(invoice.lines.iter().filter(|l| !is_shipping(l)));
    let shipping = Sums::of(invoice.lines.iter().filter(|l| is_shipping(l)));
    let customer = &invoice.customer;
    let billing = customer.address.clone().unwrap_or_default();
    let locale = customer
        .locale
        .clone()
        .or_else(|| invoice.seller.as_ref().map(|s| s.locale.code().to_string()))
        .unwrap_or_else(|| "en".to_string());
    let refunds: Vec<RefundObject> = invoice
        .payments
        .iter()
        .flat_map(|p| {
            p.refunds.iter().map(move |r| RefundObject {
                id: r.id.to_string(),
                payment_id: p.id.to_string(),
                amount: MajorUnits::of(r.amount.amount(), currency),
                reason: r.reason.clone(),
                date: r.refunded_at.timestamp(),
            })
        })
        .collect();
    PlugnpaidInvoice {
        version: invoice.version,
        id: invoice.id.to_string(),
        currency: currency.code().to_string(),
        paid: invoice.status == InvoiceStatus::Paid,
        object: "invoice",
        kind: "custom",
        prefix: invoice
            .number
            .as_ref()
            .map_or_else(|| invoice.series.to_string(), |n| n.prefix().to_string()),
        number: invoice.number.as_ref().map(|n| n.sequence),
        total: units(t.total),
        payment: invoice.payments.last().and_then(|p| p.method.clone()),
        date: invoice.issued_at.map(|d| d.timestamp()),
        status: status(invoice),
        subscription: None,
        is_instalment: false,
        merchant: invoice
            .issuer
            .as_ref()
            .map(Merchant::from_party)
            .or_else(|| invoice.seller.as_ref().map(Merchant::from_seller)),
        locale: locale.clone(),
        customer_information: CustomerInformation {
            billing_information: AddressObject::of(customer, &billing, false),
            country: billing.country.map(|c| c.to_string()),
            email: customer.email.clone(),
            id: customer.id.to_string(),
            locale: Some(locale),
            name: customer.name.clone(),
            shipping_information: customer
                .shipping_address
                .as_ref()
                .map(|a| AddressObject::of(customer, a, true)),
            stripe_customer_id: None,
        },
        products: invoice
            .lines
            .iter()
            .map(|l| product(invoice, l, &jurisdiction))
            .collect(),
        discounts: Vec::new(),
        licenses: Vec::new(),
        start_date: None,
        end_date: None,
        totals: InvoiceTotals {
            discount: zero(),
            item_count: invoice.lines.len(),
            item_total: units(goods.entered),
            item_total_with_tax: units(goods.gross),
            moss_tax_total: zero(),
            moss_taxable_amount: zero(),
            price_conversion: false,
            shipping: units(shipping.entered),
            shipping_discount: zero(),
            shipping_subtotal: units(shipping.net),
            shipping_tax: units(shipping.tax),
            shipping_total: units(shipping.gross),
            subtotal: units(goods.net),
            tax: units(goods.tax),
            total: units(t.total),
            trial_deductions: zero(),
            gateway_fees: zero(),
            affiliate_revenue: zero(),
            amount_due: units(t.amount_due),
            refunded_total: units(invoice.amount_refunded()),
            credited_total: units(t.amount_credited),
        },
        taxes: InvoiceTaxes {
            has_vat: invoice.lines.iter().any(|l| !l.amounts.tax.is_zero()),
            shipping_tax_rates: tax_rates(&mut invoice.lines.iter().filter(|l| is_shipping(l))),
            tax_rates: tax_rates(&mut invoice.lines.iter().filter(|l| !is_shipping(l))),
        },
        shipping: Shipping {
            method: None,
            tracking: None,
            has_shipping: invoice.lines.iter().any(is_shipping),
            shipped: false,
        },
        affiliate_program: None,
        affiliate_partner: None,
        due_date: invoice.due_date.map(|d| common::midnight(d).timestamp()),
        refunds: (!refunds.is_empty()).then_some(refunds),
        consents: None,
        appendix: None,
    }
}

/// One rate entry of `tax` at `rate`.
fn tax_rate(
    rate: TaxRate,
    inclusive: bool,
    category: &'static str,
    tax: Amount,
    currency: Currency,
    jurisdiction: Option<String>,
) -> TaxRateObject {
    TaxRateObject {
        applies_to: None,
        id: None,
        inclusive,
        jurisdiction,
        label: if category == "S" {
            format!("VAT {rate}%")
        } else {
            format!("VAT {rate}% ({category})")
        },
        moss: false,
        rate_amount: None,
        rate_percent: common::rate_number(&rate),
        tax: MajorUnits::of(tax, currency),
        vat_tax: true,
    }
}

/// One line as a plug&paid product.
fn product(invoice: &Invoice, l: &Line, jurisdiction: &Option<String>) -> Product {
    let currency = invoice.currency;
    let units = |a: Amount| MajorUnits::of(a, currency);
    let zero = || units(Amount::ZERO);
    Product {
        classification: None,
        currency: currency.code().to_string(),
        discount_allowed: false,
        discounts: Vec::new(),
        ean: None,
        has_shipping: is_shipping(l),
        id: l.product_id.as_ref().map(ToString::to_string),
        invoice_item_id: l.id.to_string(),
        is_moss_product: false,
        is_variant: l.variation_id.is_some(),
        name: l.description.clone(),
        pack: None,
        quantity: l.quantity,
        reservations: Vec::new(),
        sku: None,
        status: l.status.as_str(),
        taxes: ProductTaxes {
            inclusive: l.tax_inclusive,
            shipping_tax_rates: Vec::new(),
            tax_rates: vec![tax_rate(
                l.tax.rate(),
                l.tax_inclusive,
                l.tax.category().code(),
                l.amounts.tax,
                currency,
                jurisdiction.clone(),
            )],
        },
        totals: ProductTotals {
            discount: zero(),
            exchange_rate: None,
            item_total: units(entered(l)),
            item_total_with_tax: units(l.amounts.gross),
            moss_tax_total: zero(),
            moss_taxable_amount: zero(),
            price_conversion: false,
            shipping: zero(),
            shipping_discount: zero(),
            shipping_subtotal: zero(),
            shipping_tax: zero(),
            shipping_total: zero(),
            subtotal: units(l.amounts.net),
            tax: units(l.amounts.tax),
            total: units(l.amounts.gross),
            unit_price: units(l.unit_amount),
        },
        kind: l.kind.map(product_type),
        variation_id: l.variation_id.as_ref().map(ToString::to_string),
    }
}
