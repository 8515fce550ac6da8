//! The business terms of one e-invoice document.

use chrono::NaiveDate;

use crate::model::credit_note::CreditNote;
use crate::model::invoice::Invoice;
use crate::model::money::{Amount, Currency, LineAmounts};
use crate::model::party::Party;
use crate::model::reason::Reason;
use crate::model::seller::SellerProfile;
use crate::model::tax::{LineTax, TaxSubtotal};

/// Which specification a document claims to follow (BT-24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// The core standard, `urn:cen.eu:en16931:2017`.
    #[default]
    En16931,
    /// The German CIUS XRechnung 3.0, which makes more fields mandatory.
    XRechnung,
}

impl Profile {
    /// The specification identifier (BT-24).
    pub fn customization_id(self) -> &'static str {
        match self {
            Profile::En16931 => "urn:cen.eu:en16931:2017",
            Profile::XRechnung => "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
        }
    }

    /// The business process (BT-23) the profile names, if any.
    pub fn profile_id(self) -> Option<&'static str> {
        match self {
            Profile::En16931 => None,
            Profile::XRechnung => Some("urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"),
        }
    }

    /// Parses `en16931` or `xrechnung`.
    pub fn parse(name: &str) -> Option<Profile> {
        match name {
            "en16931" => Some(Profile::En16931),
            "xrechnung" => Some(Profile::XRechnung),
            _ => None,
        }
    }
}

/// Invoice (UNTDID 1001 code 380) or credit note (381).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    /// A commercial invoice, 380.
    Invoice,
    /// A credit note, 381.
    CreditNote,
}

impl DocumentType {
    /// The UNTDID 1001 code (BT-3).
    pub fn code(self) -> &'static str {
        match self {
            DocumentType::Invoice => "380",
            DocumentType::CreditNote => "381",
        }
    }
}

/// Where the seller of a document came from, so that a missing field can
/// be named where the caller fixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SellerSource {
    /// The tenant's seller profile (`seller.…` of `/v1/tenant`).
    Profile,
    /// The invoice's `issuer`.
    Issuer,
}

/// One line of a document (BG-25), as the document itself carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLine {
    /// The seller's item id, when the invoice line had a product id (BT-155).
    pub item_id: Option<String>,
    /// Item name (BT-153).
    pub description: String,
    /// Invoiced or credited quantity (BT-129).
    pub quantity: u32,
    /// Price of one unit as entered (net, or gross when tax-inclusive).
    pub unit_amount: Amount,
    /// Category, rate and exemption reason (BT-151, BT-152).
    pub tax: LineTax,
    /// True when `unit_amount` includes tax.
    pub tax_inclusive: bool,
    /// Net (BT-131), tax and gross, rounded per line.
    pub amounts: LineAmounts,
}

/// An issued invoice or a credit note as an e-invoice: every business term
/// a renderer needs, and nothing it would have to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EDocument {
    /// 380 or 381.
    pub doc_type: DocumentType,
    /// Document number (BT-1).
    pub number: String,
    /// Issue date (BT-2).
    pub issue_date: NaiveDate,
    /// Payment due date (BT-9), invoices only.
    pub due_date: Option<NaiveDate>,
    /// Currency (BT-5).
    pub currency: Currency,
    /// Buyer reference (BT-10).
    pub buyer_reference: Option<String>,
    /// The credited invoice's number and issue date (BT-25, BT-26).
    pub preceding_invoice: Option<(String, NaiveDate)>,
    /// Why a credit note was issued (shown as BT-22).
    pub reason: Option<Reason>,
    /// The seller (BG-4).
    pub seller: SellerProfile,
    /// Where the seller came from.
    pub seller_source: SellerSource,
    /// The buyer (BG-7).
    pub buyer: Party,
    /// Lines, in document order.
    pub lines: Vec<DocumentLine>,
    /// VAT breakdown (BG-23).
    pub breakdown: Vec<TaxSubtotal>,
    /// Sum of line nets (BT-106, BT-109).
    pub subtotal: Amount,
    /// Total VAT (BT-110).
    pub tax: Amount,
    /// Total with VAT (BT-112).
    pub total: Amount,
    /// Amount due for payment as issued (BT-115): the total, since payments
    /// and credit notes come later and never change the document.
    pub amount_due: Amount,
}

impl EDocument {
    /// The seller of `invoice`: the one frozen at finalize, else (for an
    /// invoice issued before seller profiles existed) its issuer or the
    /// tenant's profile as it is now.
    fn seller_of(invoice: &Invoice, profile: &SellerProfile) -> (SellerProfile, SellerSource) {
        let source = if invoice.issuer.is_some() {
            SellerSource::Issuer
        } else {
            SellerSource::Profile
        };
        let seller = match (&invoice.seller, &invoice.issuer) {
            (Some(frozen), _) => frozen.clone(),
            (None, Some(issuer)) => profile.for_issuer(issuer),
            (None, None) => profile.clone(),
        };
        (seller, source)
    }

    /// The document of an issued invoice, or `None` for a draft. `profile`
    /// is the tenant's seller profile, used only by invoices issued before
    /// the seller was frozen on them.
    pub fn of_invoice(invoice: &Invoice, profile: &SellerProfile) -> Option<EDocument> {
        let (number, issued_at) = (invoice.number.as_ref()?, invoice.issued_at?);
        let (seller, seller_source) = Self::seller_of(invoice, profile);
        let totals = invoice.totals();
        Some(EDocument {
            doc_type: DocumentType::Invoice,
            number: number.to_string(),
            issue_date: issued_at.date_naive(),
            due_date: invoice.due_date,
            currency: invoice.currency,
            buyer_reference: invoice
                .buyer_reference
                .clone()
                .or_else(|| invoice.external_reference.clone()),
            preceding_invoice: None,
            reason: None,
            seller,
            seller_source,
            buyer: invoice.customer.clone(),
            lines: invoice
                .lines
                .iter()
                .map(|l| DocumentLine {
                    item_id: l.product_id.as_ref().map(ToString::to_string),
                    description: l.description.clone(),
                    quantity: l.quantity,
                    unit_amount: l.unit_amount,
                    tax: l.tax.clone(),
                    tax_inclusive: l.tax_inclusive,
                    amounts: l.amounts,
                })
                .collect(),
            breakdown: invoice.tax_breakdown(),
            subtotal: totals.subtotal,
            tax: totals.tax,
            total: totals.total,
            amount_due: totals.total,
        })
    }

    /// The document of a credit note of `invoice`: the note's own lines,
    /// breakdown, totals, reason, numbers and dates, with the invoice's
    /// parties and frozen seller.
    pub fn of_credit_note(note: &CreditNote, invoice: &Invoice, profile: &SellerProfile) -> EDocument {
        let (seller, seller_source) = Self::seller_of(invoice, profile);
        EDocument {
            doc_type: DocumentType::CreditNote,
            number: note.number.to_string(),
            issue_date: note.issued_at.date_naive(),
            due_date: None,
            currency: note.currency,
            buyer_reference: invoice
                .buyer_reference
                .clone()
                .or_else(|| invoice.external_reference.clone()),
            preceding_invoice: Some((note.invoice_number.to_string(), note.invoice_issued_at.date_naive())),
            reason: note.reason.clone(),
            seller,
            seller_source,
            buyer: invoice.customer.clone(),
            lines: note
                .lines
                .iter()
                .map(|l| DocumentLine {
                    item_id: None,
                    description: l.description.clone(),
                    quantity: l.quantity,
                    unit_amount: l.unit_amount,
                    tax: l.tax.clone(),
                    tax_inclusive: l.tax_inclusive,
                    amounts: l.amounts,
                })
                .collect(),
            breakdown: note.tax_breakdown(),
            subtotal: note.subtotal(),
            tax: note.tax(),
            total: note.total(),
            amount_due: note.total(),
        }
    }

    /// The text of the credit note's reason (BT-22): the free text, else
    /// the reason code's name.
    pub fn reason_text(&self) -> Option<String> {
        self.reason
            .as_ref()
            .map(|r| r.text.clone().unwrap_or_else(|| r.code.as_str().replace('_', " ")))
    }
}
