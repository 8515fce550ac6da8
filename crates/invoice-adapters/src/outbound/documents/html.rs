//! The printable page of a document: a MiniJinja template (HTML escaping
//! on) with A4 print CSS, fed with numbers and dates already formatted for
//! the seller's locale, so the template only lays them out.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use invoice_domain::{
    Amount, Currency, DocumentType, EDocument, Locale, Party, PostalAddress, Profile, TaxCategory, VatId,
};
use minijinja::Environment;
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/document.html");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("document.html", TEMPLATE)
            .expect("the document template parses");
        env
    })
}

/// The words of the page, per locale.
#[derive(Serialize)]
struct Labels {
    invoice: &'static str,
    credit_note: &'static str,
    seller: &'static str,
    buyer: &'static str,
    vat_id: &'static str,
    tax_registration: &'static str,
    issue_date: &'static str,
    due_date: &'static str,
    buyer_reference: &'static str,
    currency: &'static str,
    reason: &'static str,
    description: &'static str,
    quantity: &'static str,
    unit_price: &'static str,
    vat: &'static str,
    net: &'static str,
    vat_category: &'static str,
    rate: &'static str,
    taxable: &'static str,
    exemption: &'static str,
    subtotal: &'static str,
    tax_total: &'static str,
    total: &'static str,
    amount_due: &'static str,
    amount_credited: &'static str,
    payment_terms: &'static str,
    iban: &'static str,
    bic: &'static str,
    account_name: &'static str,
    credit_note_for: &'static str,
    of: &'static str,
}

fn labels(locale: Locale) -> Labels {
    match locale {
        Locale::En => Labels {
            invoice: "Invoice",
            credit_note: "Credit note",
            seller: "Seller",
            buyer: "Bill to",
            vat_id: "VAT ID",
            tax_registration: "Tax number",
            issue_date: "Issue date",
            due_date: "Due date",
            buyer_reference: "Your reference",
            currency: "Currency",
            reason: "Reason",
            description: "Description",
            quantity: "Qty",
            unit_price: "Unit price",
            vat: "VAT",
            net: "Net",
            vat_category: "VAT category",
            rate: "Rate",
            taxable: "Taxable amount",
            exemption: "Exemption",
            subtotal: "Total without VAT",
            tax_total: "VAT",
            total: "Total with VAT",
            amount_due: "Amount due",
            amount_credited: "Amount credited",
            payment_terms: "Payment terms",
            iban: "IBAN",
            bic: "BIC",
            account_name: "Account holder",
            credit_note_for: "Credit note for invoice",
            of: "of",
        },
        Locale::De => Labels {
            invoice: "Rechnung",
            credit_note: "Gutschrift",
            seller: "Verkäufer",
            buyer: "Rechnungsempfänger",
            vat_id: "USt-IdNr.",
            tax_registration: "Steuernummer",
            issue_date: "Rechnungsdatum",
            due_date: "Fällig am",
            buyer_reference: "Ihre Referenz",
            currency: "Währung",
            reason: "Grund",
            description: "Beschreibung",
            quantity: "Menge",
            unit_price: "Einzelpreis",
            vat: "USt.",
            net: "Netto",
            vat_category: "USt.-Kategorie",
            rate: "Satz",
            taxable: "Bemessungsgrundlage",
            exemption: "Befreiungsgrund",
            subtotal: "Summe netto",
            tax_total: "Umsatzsteuer",
            total: "Summe brutto",
            amount_due: "Zahlbetrag",
            amount_credited: "Gutgeschriebener Betrag",
            payment_terms: "Zahlungsbedingungen",
            iban: "IBAN",
            bic: "BIC",
            account_name: "Kontoinhaber",
            credit_note_for: "Gutschrift zur Rechnung",
            of: "vom",
        },
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as the locale writes it: `7 December 2026`, `07.12.2026`.
pub fn date(d: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::En => {
            let month = MONTHS_EN.get(d.month0() as usize).copied().unwrap_or_default();
            format!("{} {month} {}", d.day(), d.year())
        }
        Locale::De => format!("{:02}.{:02}.{}", d.day(), d.month(), d.year()),
    }
}

/// An exact decimal string (`1234567.50`) grouped and pointed as the
/// locale writes numbers: `1,234,567.50` or `1.234.567,50`.
pub fn number(decimal: &str, locale: Locale) -> String {
    let (group, point) = match locale {
        Locale::En => (',', '.'),
        Locale::De => ('.', ','),
    };
    let (int, frac) = decimal.split_once('.').map_or((decimal, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{grouped}{point}{f}"),
        None => grouped,
    }
}

/// An amount with its currency code, exact, in the locale's format.
pub fn money(a: Amount, currency: Currency, locale: Locale) -> String {
    format!("{} {}", number(&a.to_decimal_string(currency), locale), currency.code())
}

#[derive(Serialize)]
struct PartyBlock {
    name: String,
    address: Vec<String>,
    vat_id: Option<String>,
    tax_registration: Option<String>,
    contact: Vec<String>,
}

fn address_lines(a: Option<&PostalAddress>) -> Vec<String> {
    let Some(a) = a else {
        return Vec::new();
    };
    let city = [a.postcode.clone(), a.city.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        a.street.clone(),
        (!city.is_empty()).then_some(city),
        a.region.clone(),
        a.country.map(|c| c.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn buyer_block(p: &Party) -> PartyBlock {
    PartyBlock {
        name: p.name.clone(),
        address: address_lines(p.address.as_ref()),
        vat_id: p
            .tax_number
            .as_deref()
            .and_then(|t| VatId::parse(t).ok())
            .map(|v| v.to_string()),
        tax_registration: None,
        contact: Vec::new(),
    }
}

#[derive(Serialize)]
struct LineRow {
    position: usize,
    description: String,
    quantity: u32,
    unit_price: String,
    vat: String,
    net: String,
}

#[derive(Serialize)]
struct BreakdownRow {
    category: &'static str,
    rate: String,
    taxable: String,
    tax: String,
    exemption: String,
}

#[derive(Serialize)]
struct Page {
    lang: &'static str,
    t: Labels,
    title: &'static str,
    number: String,
    reference: Option<String>,
    issue_date: String,
    due_date: Option<String>,
    buyer_reference: Option<String>,
    currency: &'static str,
    reason: Option<String>,
    seller: PartyBlock,
    buyer: PartyBlock,
    lines: Vec<LineRow>,
    breakdown: Vec<BreakdownRow>,
    subtotal: String,
    tax: String,
    total: String,
    due_label: &'static str,
    amount_due: String,
    payment_terms: Option<String>,
    payment: Vec<String>,
    profile: &'static str,
}

/// The printable HTML page of `doc`, in its seller's locale.
pub fn render(doc: &EDocument, profile: Profile) -> String {
    let locale = doc.seller.locale;
    let t = labels(locale);
    let c = doc.currency;
    let rate = |r: invoice_domain::TaxRate| format!("{} %", number(&r.to_string(), locale));
    let s = &doc.seller;
    let contact = s.contact.clone().unwrap_or_default();
    let seller = PartyBlock {
        name: s.name.clone().unwrap_or_default(),
        address: address_lines(s.address.as_ref()),
        vat_id: s.vat_id.as_ref().map(ToString::to_string),
        tax_registration: s.tax_registration.clone(),
        contact: [contact.name, contact.phone, contact.email]
            .into_iter()
            .flatten()
            .collect(),
    };
    let mut payment = Vec::new();
    if let Some(p) = &s.payment_means {
        payment.push(format!("{}: {}", t.iban, p.iban.as_str()));
        if let Some(bic) = &p.bic {
            payment.push(format!("{}: {bic}", t.bic));
        }
        if let Some(name) = &p.account_name {
            payment.push(format!("{}: {name}", t.account_name));
        }
    }
    let (title, due_label, reference) = match doc.doc_type {
        DocumentType::Invoice => (t.invoice, t.amount_due, None),
        DocumentType::CreditNote => (
            t.credit_note,
            t.amount_credited,
            doc.preceding_invoice
                .as_ref()
                .map(|(n, d)| format!("{} {n} {} {}", t.credit_note_for, t.of, date(*d, locale))),
        ),
    };
    let page = Page {
        lang: locale.code(),
        title,
        number: doc.number.clone(),
        reference,
        issue_date: date(doc.issue_date, locale),
        due_date: doc.due_date.map(|d| date(d, locale)),
        buyer_reference: doc.buyer_reference.clone(),
        currency: c.code(),
        reason: doc.reason_text(),
        seller,
        buyer: buyer_block(&doc.buyer),
        lines: doc
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| LineRow {
                position: i + 1,
                description: l.description.clone(),
                quantity: l.quantity,
                unit_price: money(l.unit_amount, c, locale),
                vat: match l.tax.category() {
                    TaxCategory::Standard => rate(l.tax.rate()),
                    other => other.code().to_string(),
                },
                net: money(l.amounts.net, c, locale),
            })
            .collect(),
        breakdown: doc
            .breakdown
            .iter()
            .map(|b| BreakdownRow {
                category: b.category.code(),
                rate: rate(b.rate),
                taxable: money(b.taxable_amount, c, locale),
                tax: money(b.tax_amount, c, locale),
                exemption: b
                    .exemption
                    .as_ref()
                    .map(|e| {
                        [e.code.clone(), e.text.clone()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        subtotal: money(doc.subtotal, c, locale),
        tax: money(doc.tax, c, locale),
        total: money(doc.total, c, locale),
        due_label,
        amount_due: money(doc.amount_due, c, locale),
        payment_terms: s.payment_terms.clone(),
        payment,
        profile: profile.customization_id(),
        t,
    };
    environment()
        .get_template("document.html")
        .and_then(|tpl| tpl.render(minijinja::value::Serde(&page)))
        .expect("the document template renders every page")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_follow_the_locale() {
        assert_eq!(number("1234567.50", Locale::En), "1,234,567.50");
        assert_eq!(number("1234567.50", Locale::De), "1.234.567,50");
        assert_eq!(number("999", Locale::De), "999");
        assert_eq!(number("1000", Locale::En), "1,000");
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(date(d, Locale::En), "7 December 2026");
        assert_eq!(date(d, Locale::De), "07.12.2026");
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(money(Amount::from_minor(142_800), eur, Locale::De), "1.428,00 EUR");
    }
}
