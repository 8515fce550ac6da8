//! UBL 2.1 `Invoice` (380) and `CreditNote` (381) documents from an
//! [`EDocument`], written with `quick-xml`, which escapes every text and
//! attribute. The output depends on the document alone, element order
//! follows the UBL 2.1 schemas, and nothing (no clock, no map order) can
//! make two renderings differ.

use std::io;

use invoice_domain::{
    Amount, Currency, DocumentLine, DocumentType, EDocument, Party, PostalAddress, Profile, SellerProfile, TaxCategory,
    TaxSubtotal, VatId,
};
use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};
use quick_xml::Writer;

const UBL_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const UBL_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// UN/ECE Recommendation 20 "one": Storno's quantities count units.
const UNIT_CODE: &str = "C62";

/// An amount as EN 16931 writes it: the exact decimal of the minor units
/// with the currency's exponent, except that trailing zeros past the second
/// decimal are dropped, since the standard allows two decimals at most
/// (BR-DEC-*); the completeness check refuses amounts that would need more.
pub fn amount(a: Amount, currency: Currency) -> String {
    let text = a.to_decimal_string(currency);
    match text.split_once('.') {
        Some((int, frac)) if frac.len() > 2 => {
            let kept = frac.trim_end_matches('0');
            let kept = if kept.len() < 2 { &frac[..2] } else { kept };
            format!("{int}.{kept}")
        }
        _ => text,
    }
}

/// A price (BT-146): exact, with the currency's own exponent, which no
/// decimals rule limits.
fn price(a: Amount, currency: Currency) -> String {
    a.to_decimal_string(currency)
}

struct Ubl<'a> {
    w: Writer<Vec<u8>>,
    doc: &'a EDocument,
}

type Res = io::Result<()>;

impl Ubl<'_> {
    fn start(&mut self, name: &str) -> Res {
        self.w.write_event(Event::Start(BytesStart::new(name)))
    }

    fn end(&mut self, name: &str) -> Res {
        self.w.write_event(Event::End(quick_xml::events::BytesEnd::new(name)))
    }

    fn text(&mut self, name: &str, value: &str) -> Res {
        self.w
            .create_element(name)
            .write_text_content(BytesText::new(value))
            .map(drop)
    }

    fn text_attr(&mut self, name: &str, attr: (&str, &str), value: &str) -> Res {
        self.w
            .create_element(name)
            .with_attribute(attr)
            .write_text_content(BytesText::new(value))
            .map(drop)
    }

    fn money(&mut self, name: &str, a: Amount) -> Res {
        let currency = self.doc.currency;
        self.text_attr(name, ("currencyID", currency.code()), &amount(a, currency))
    }

    fn opt(&mut self, name: &str, value: Option<&str>) -> Res {
        match value {
            Some(v) => self.text(name, v),
            None => Ok(()),
        }
    }

    fn tax_scheme(&mut self, id: &str) -> Res {
        self.start("cac:TaxScheme")?;
        self.text("cbc:ID", id)?;
        self.end("cac:TaxScheme")
    }

    fn address(&mut self, a: Option<&PostalAddress>) -> Res {
        let a = a.cloned().unwrap_or_default();
        self.start("cac:PostalAddress")?;
        self.opt("cbc:StreetName", a.street.as_deref())?;
        self.opt("cbc:CityName", a.city.as_deref())?;
        self.opt("cbc:PostalZone", a.postcode.as_deref())?;
        self.opt("cbc:CountrySubentity", a.region.as_deref())?;
        if let Some(country) = a.country {
            self.start("cac:Country")?;
            self.text("cbc:IdentificationCode", country.as_str())?;
            self.end("cac:Country")?;
        }
        self.end("cac:PostalAddress")
    }

    fn party_tax_scheme(&mut self, company_id: &str, scheme: &str) -> Res {
        self.start("cac:PartyTaxScheme")?;
        self.text("cbc:CompanyID", company_id)?;
        self.tax_scheme(scheme)?;
        self.end("cac:PartyTaxScheme")
    }

    fn legal_entity(&mut self, name: &str) -> Res {
        self.start("cac:PartyLegalEntity")?;
        self.text("cbc:RegistrationName", name)?;
        self.end("cac:PartyLegalEntity")
    }

    /// The seller (BG-4). Without a VAT identifier the tax registration is
    /// also its identifier (BT-29), since BR-CO-26 needs BT-29, BT-30 or BT-31.
    fn seller(&mut self, s: &SellerProfile) -> Res {
        self.start("cac:AccountingSupplierParty")?;
        self.start("cac:Party")?;
        if let Some(e) = &s.electronic_address {
            self.text_attr("cbc:EndpointID", ("schemeID", &e.scheme), &e.value)?;
        }
        if let (None, Some(registration)) = (&s.vat_id, &s.tax_registration) {
            self.start("cac:PartyIdentification")?;
            self.text("cbc:ID", registration)?;
            self.end("cac:PartyIdentification")?;
        }
        self.address(s.address.as_ref())?;
        if let Some(vat) = &s.vat_id {
            self.party_tax_scheme(vat.as_str(), "VAT")?;
        }
        if let Some(registration) = &s.tax_registration {
            self.party_tax_scheme(registration, "FC")?;
        }
        self.legal_entity(s.name.as_deref().unwrap_or_default())?;
        if let Some(c) = s
            .contact
            .as_ref()
            .filter(|c| c.name.is_some() || c.phone.is_some() || c.email.is_some())
        {
            self.start("cac:Contact")?;
            self.opt("cbc:Name", c.name.as_deref())?;
            self.opt("cbc:Telephone", c.phone.as_deref())?;
            self.opt("cbc:ElectronicMail", c.email.as_deref())?;
            self.end("cac:Contact")?;
        }
        self.end("cac:Party")?;
        self.end("cac:AccountingSupplierParty")
    }

    /// The buyer (BG-7): a tax number with a VAT prefix is its VAT
    /// identifier (BT-48); the e-mail its electronic address (BT-49, `EM`).
    fn buyer(&mut self, b: &Party) -> Res {
        self.start("cac:AccountingCustomerParty")?;
        self.start("cac:Party")?;
        if let Some(email) = &b.email {
            self.text_attr("cbc:EndpointID", ("schemeID", "EM"), email)?;
        }
        self.address(b.address.as_ref())?;
        if let Some(vat) = b.tax_number.as_deref().and_then(|t| VatId::parse(t).ok()) {
            self.party_tax_scheme(vat.as_str(), "VAT")?;
        }
        self.legal_entity(&b.name)?;
        if b.phone.is_some() || b.email.is_some() {
            self.start("cac:Contact")?;
            self.opt("cbc:Telephone", b.phone.as_deref())?;
            self.opt("cbc:ElectronicMail", b.email.as_deref())?;
            self.end("cac:Contact")?;
        }
        self.end("cac:Party")?;
        self.end("cac:AccountingCustomerParty")
    }

    fn payment(&mut self) -> Res {
        let doc = self.doc;
        if let Some(p) = &doc.seller.payment_means {
            self.start("cac:PaymentMeans")?;
            self.text("cbc:PaymentMeansCode", &p.code)?;
            if doc.doc_type == DocumentType::Invoice {
                self.text("cbc:PaymentID", &doc.number)?;
            }
            self.start("cac:PayeeFinancialAccount")?;
            self.text("cbc:ID", p.iban.as_str())?;
            self.opt("cbc:Name", p.account_name.as_deref())?;
            if let Some(bic) = &p.bic {
                self.start("cac:FinancialInstitutionBranch")?;
                self.text("cbc:ID", bic)?;
                self.end("cac:FinancialInstitutionBranch")?;
            }
            self.end("cac:PayeeFinancialAccount")?;
            self.end("cac:PaymentMeans")?;
        }
        if let Some(terms) = &doc.seller.payment_terms {
            self.start("cac:PaymentTerms")?;
            self.text("cbc:Note", terms)?;
            self.end("cac:PaymentTerms")?;
        }
        Ok(())
    }

    /// A category with its rate; `O` carries none (BR-O-05, BR-48).
    fn category(&mut self, element: &str, category: TaxCategory, rate: invoice_domain::TaxRate) -> Res {
        self.start(element)?;
        self.text("cbc:ID", category.code())?;
        if category != TaxCategory::OutsideScope {
            self.text("cbc:Percent", &rate.to_string())?;
        }
        Ok(())
    }

    fn breakdown(&mut self, entries: &[TaxSubtotal]) -> Res {
        self.start("cac:TaxTotal")?;
        self.money("cbc:TaxAmount", self.doc.tax)?;
        for e in entries {
            self.start("cac:TaxSubtotal")?;
            self.money("cbc:TaxableAmount", e.taxable_amount)?;
            self.money("cbc:TaxAmount", e.tax_amount)?;
            self.category("cac:TaxCategory", e.category, e.rate)?;
            if let Some(reason) = &e.exemption {
                self.opt("cbc:TaxExemptionReasonCode", reason.code.as_deref())?;
                self.opt("cbc:TaxExemptionReason", reason.text.as_deref())?;
            }
            self.tax_scheme("VAT")?;
            self.end("cac:TaxCategory")?;
            self.end("cac:TaxSubtotal")?;
        }
        self.end("cac:TaxTotal")
    }

    fn totals(&mut self) -> Res {
        let doc = self.doc;
        self.start("cac:LegalMonetaryTotal")?;
        self.money("cbc:LineExtensionAmount", doc.subtotal)?;
        self.money("cbc:TaxExclusiveAmount", doc.subtotal)?;
        self.money("cbc:TaxInclusiveAmount", doc.total)?;
        self.money("cbc:PayableAmount", doc.amount_due)?;
        self.end("cac:LegalMonetaryTotal")
    }

    /// One line. A net line is priced at its unit amount (quantity × price
    /// = net). A tax-inclusive line, whose net was derived from its gross,
    /// is priced at its whole net per its whole quantity (BaseQuantity), so
    /// quantity × price ÷ base quantity is the net exactly.
    fn line(&mut self, position: usize, l: &DocumentLine) -> Res {
        let (line, quantity) = match self.doc.doc_type {
            DocumentType::Invoice => ("cac:InvoiceLine", "cbc:InvoicedQuantity"),
            DocumentType::CreditNote => ("cac:CreditNoteLine", "cbc:CreditedQuantity"),
        };
        let currency = self.doc.currency;
        let exact_unit_price = !l.tax_inclusive
            && u128::from(l.quantity) * u128::from(l.unit_amount.minor()) == u128::from(l.amounts.net.minor());
        self.start(line)?;
        self.text("cbc:ID", &(position + 1).to_string())?;
        self.text_attr(quantity, ("unitCode", UNIT_CODE), &l.quantity.to_string())?;
        self.money("cbc:LineExtensionAmount", l.amounts.net)?;
        self.start("cac:Item")?;
        self.text("cbc:Name", &l.description)?;
        if let Some(id) = &l.item_id {
            self.start("cac:SellersItemIdentification")?;
            self.text("cbc:ID", id)?;
            self.end("cac:SellersItemIdentification")?;
        }
        self.category("cac:ClassifiedTaxCategory", l.tax.category(), l.tax.rate())?;
        self.tax_scheme("VAT")?;
        self.end("cac:ClassifiedTaxCategory")?;
        self.end("cac:Item")?;
        self.start("cac:Price")?;
        if exact_unit_price {
            self.text_attr(
                "cbc:PriceAmount",
                ("currencyID", currency.code()),
                &price(l.unit_amount, currency),
            )?;
        } else {
            self.text_attr(
                "cbc:PriceAmount",
                ("currencyID", currency.code()),
                &price(l.amounts.net, currency),
            )?;
            self.text_attr(
                "cbc:BaseQuantity",
                ("unitCode", UNIT_CODE),
                &l.quantity.max(1).to_string(),
            )?;
        }
        self.end("cac:Price")?;
        self.end(line)
    }

    fn document(&mut self, profile: Profile) -> Res {
        let doc = self.doc;
        let (root, namespace, type_code) = match doc.doc_type {
            DocumentType::Invoice => ("Invoice", UBL_INVOICE, "cbc:InvoiceTypeCode"),
            DocumentType::CreditNote => ("CreditNote", UBL_CREDIT_NOTE, "cbc:CreditNoteTypeCode"),
        };
        self.w
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let start =
            BytesStart::new(root).with_attributes([("xmlns", namespace), ("xmlns:cac", CAC), ("xmlns:cbc", CBC)]);
        self.w.write_event(Event::Start(start))?;
        self.text("cbc:CustomizationID", profile.customization_id())?;
        self.opt("cbc:ProfileID", profile.profile_id())?;
        self.text("cbc:ID", &doc.number)?;
        self.text("cbc:IssueDate", &doc.issue_date.to_string())?;
        if doc.doc_type == DocumentType::Invoice {
            self.opt("cbc:DueDate", doc.due_date.map(|d| d.to_string()).as_deref())?;
        }
        self.text(type_code, doc.doc_type.code())?;
        self.opt("cbc:Note", doc.reason_text().as_deref())?;
        self.text("cbc:DocumentCurrencyCode", doc.currency.code())?;
        self.opt("cbc:BuyerReference", doc.buyer_reference.as_deref())?;
        if let Some((number, date)) = &doc.preceding_invoice {
            self.start("cac:BillingReference")?;
            self.start("cac:InvoiceDocumentReference")?;
            self.text("cbc:ID", number)?;
            self.text("cbc:IssueDate", &date.to_string())?;
            self.end("cac:InvoiceDocumentReference")?;
            self.end("cac:BillingReference")?;
        }
        self.seller(&doc.seller)?;
        self.buyer(&doc.buyer)?;
        self.payment()?;
        self.breakdown(&doc.breakdown)?;
        self.totals()?;
        for (i, l) in doc.lines.iter().enumerate() {
            self.line(i, l)?;
        }
        self.end(root)
    }
}

/// The UBL 2.1 XML of `doc` for `profile`, indented, ending in a newline.
pub fn render(doc: &EDocument, profile: Profile) -> Vec<u8> {
    let mut ubl = Ubl {
        w: Writer::new_with_indent(Vec::new(), b' ', 2),
        doc,
    };
    // Writing to a Vec cannot fail.
    ubl.document(profile).expect("writing XML to memory");
    let mut out = ubl.w.into_inner();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_every_digit_and_at_most_two_needless_zeros_go() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(amount(Amount::from_minor(120_050), eur), "1200.50");
        assert_eq!(amount(Amount::from_minor(5), eur), "0.05");
        assert_eq!(amount(Amount::from_minor(1_500), jpy), "1500");
        assert_eq!(amount(Amount::from_minor(12_340), kwd), "12.34");
        assert_eq!(amount(Amount::from_minor(12_300), kwd), "12.30");
        assert_eq!(amount(Amount::from_minor(12_345), kwd), "12.345", "never rounded");
        assert_eq!(price(Amount::from_minor(1_234), kwd), "1.234");
    }
}
