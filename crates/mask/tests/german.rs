//! The German recognizers of Presidio's `country_specific/germany` set:
//! valid values, bad check digits and look-alikes, and the `de` region.

use custodia_mask::{Detector, Regions};

fn found_with(d: &Detector, text: &str) -> Vec<(String, String)> {
    d.detect(text)
        .into_iter()
        .map(|f| {
            (
                f.kind.as_str().to_string(),
                text[f.start..f.end].to_string(),
            )
        })
        .collect()
}

fn one(text: &str, kind: &str, value: &str) {
    let f = found_with(&Detector::new(), text);
    assert_eq!(
        f,
        vec![(kind.to_string(), value.to_string())],
        "in {text:?}"
    );
}

fn none(text: &str) {
    let f = found_with(&Detector::new(), text);
    assert!(f.is_empty(), "expected nothing in {text:?}, got {f:?}");
}

#[test]
fn health_insurance_number_kvnr() {
    one("KVNR: A123456780", "DE_KVNR", "A123456780");
    one(
        "Versichertennummer X123456788 laut Karte",
        "DE_KVNR",
        "X123456788",
    );
    one(
        "Krankenkasse meldet K 987 654 329",
        "DE_KVNR",
        "K 987 654 329",
    );
    // Bad check digit (Presidio's validator accepts this one).
    none("KVNR: A123456785");
    none("KVNR: A123456781");
    // Valid check digit but no context: a ticket or part id.
    none("ticket A123456780 closed");
}

#[test]
fn doctor_and_practice_numbers() {
    one("LANR 123456601", "DE_LANR", "123456601");
    one("Arztnummer: 987654401", "DE_LANR", "987654401");
    none("LANR 123456701");
    none("order 123456601 shipped");
    one("BSNR 021234568", "DE_BSNR", "021234568");
    one("Betriebsstättennummer: 721234567", "DE_BSNR", "721234567");
    // 04 is no KV region; no context.
    none("BSNR 041234567");
    none("invoice 021234568 paid");
}

#[test]
fn pension_insurance_number() {
    one(
        "Rentenversicherungsnummer 15070649C103",
        "DE_SOCIAL_SECURITY",
        "15070649C103",
    );
    // Checksum, date and the rare shape carry it without context.
    one(
        "bitte 65170839J003 eintragen",
        "DE_SOCIAL_SECURITY",
        "65170839J003",
    );
    one(
        "SV-Nummer 15 070649 C 103",
        "DE_SOCIAL_SECURITY",
        "15 070649 C 103",
    );
    none("Versicherungsnummer 15070649C104");
    none("Versicherungsnummer 15071349C103");
    none("Versicherungsnummer 15320649C103");
}

#[test]
fn vat_id() {
    one("USt-IdNr.: DE136695976", "DE_VAT_CODE", "DE136695976");
    one(
        "invoice from DE 136 695 976",
        "DE_VAT_CODE",
        "DE 136 695 976",
    );
    none("USt-IdNr.: DE136695977");
    none("DE13669597 too short");
}

#[test]
fn personal_id_with_check_digit() {
    one(
        "Personalausweisnummer T220001293",
        "DE_PERSONAL_ID",
        "T220001293",
    );
    one(
        "alter Personalausweis 1220001297",
        "DE_PERSONAL_ID",
        "1220001297",
    );
    none("Personalausweisnummer T220001294");
    none("ticket T220001293");
    // The nine-character serial stays DE_ID_CARD.
    one("Personalausweis L01X00T47", "DE_ID_CARD", "L01X00T47");
}

#[test]
fn tax_number_state_formats() {
    one(
        "Steuernummer 181/815/08155",
        "DE_TAX_NUMBER",
        "181/815/08155",
    );
    one("Finanzamt: 21/815/08150", "DE_TAX_NUMBER", "21/815/08150");
    one("St.-Nr. 133/8150/8159", "DE_TAX_NUMBER", "133/8150/8159");
    one("Steuernummer 93815/08152", "DE_TAX_NUMBER", "93815/08152");
    one(
        "Steuernummer 9181081508155",
        "DE_TAX_NUMBER",
        "9181081508155",
    );
    // No context, or a 13-digit number without an ELSTER prefix.
    none("see 181/815/08155");
    none("Steuernummer 1712345678901");
}

#[test]
fn commercial_register() {
    one(
        "eingetragen unter HRB 12345",
        "DE_COMMERCIAL_REGISTER",
        "HRB 12345",
    );
    one("Firma, HRB 12345", "DE_COMMERCIAL_REGISTER", "HRB 12345");
    one(
        "HRA 98765 AG München, Sitz",
        "DE_COMMERCIAL_REGISTER",
        "HRA 98765 AG München",
    );
    one(
        "HRB 123456 B, Amtsgericht Berlin-Charlottenburg.",
        "DE_COMMERCIAL_REGISTER",
        "HRB 123456 B, Amtsgericht Berlin-Charlottenburg",
    );
    none("HRBP 12345 joined");
    none("HRB12345678 is too long");
}

#[test]
fn license_plates() {
    one("Kennzeichen B-AB 1234", "DE_LICENSE_PLATE", "B-AB 1234");
    one("Kfz M XY 123E", "DE_LICENSE_PLATE", "M XY 123E");
    one("Fahrzeug TÜ-AB 12", "DE_LICENSE_PLATE", "TÜ-AB 12");
    one("Kennzeichen HHAB12", "DE_LICENSE_PLATE", "HHAB12");
    none("see B-AB 1234");
    none("HR-IT 2024 kickoff");
    none("Kennzeichen B-AB 0123");
    none("Kennzeichen ABC-DE 12345");
}

#[test]
fn postcode_needs_context() {
    // Named by a postcode word, German's included, a code is a POSTCODE.
    one("PLZ 10115 Berlin", "POSTCODE", "10115");
    one("Postleitzahl: 10115", "POSTCODE", "10115");
    one("Wohnort 10115 Berlin", "DE_POSTAL_CODE", "10115");
    // With the street, the whole address is one finding.
    one(
        "Anschrift: Hauptweg 12, 10115 Berlin",
        "ADDRESS",
        "Hauptweg 12, 10115 Berlin",
    );
    none("order 10115 shipped");
    none("PLZ 00999");
}

#[test]
fn telematik_id() {
    one(
        "Telematik-ID 1-20014110101",
        "DE_TELEMATIK_ID",
        "1-20014110101",
    );
    one("SMC-B 5-2-123456789.", "DE_TELEMATIK_ID", "5-2-123456789");
    none("code 1-20014110101 failed");
    none("Telematik-ID 1-ABCDEF");
}

#[test]
fn german_driving_licence_digit_led_and_spaced() {
    one(
        "Führerscheinnummer 0501ABC1234",
        "DE_DRIVER_LICENSE",
        "0501ABC1234",
    );
    one(
        "Führerschein: B072 RRE2I 55",
        "DE_DRIVER_LICENSE",
        "B072 RRE2I 55",
    );
    none("build 0501ABC1234 failed");
}

#[test]
fn de_region_alone() {
    let de = Detector::with_regions("de".parse().unwrap());
    let text = "KVNR A123456780, NIF 12345678Z";
    let f = found_with(&de, text);
    assert_eq!(f, vec![("DE_KVNR".to_string(), "A123456780".to_string())]);
    let es_only = Detector::with_regions(Regions::NONE);
    assert!(found_with(&es_only, text).is_empty());
    assert!(Regions::EU.contains(Regions::DE));
    assert_eq!(Regions::DE.to_string(), "de");
    assert_eq!(Regions::EU.to_string(), "eu");
    assert_eq!(Regions::ALL.to_string(), "us,uk,au,ca,nz,eu");
    assert_eq!("de,us".parse::<Regions>().unwrap().to_string(), "us,de");
}

#[test]
fn context_words_match_non_ascii_case_insensitively() {
    one("in der Straße, 10115 Berlin", "DE_POSTAL_CODE", "10115");
    // Capital sharp s folds to ß.
    one("STRAẞE 5, 10115 BERLIN", "DE_POSTAL_CODE", "10115");
    one(
        "FÜHRERSCHEIN B072RRE2I55",
        "DE_DRIVER_LICENSE",
        "B072RRE2I55",
    );
    one("Geburtsdatum: 12.03.1984", "DATE_OF_BIRTH", "12.03.1984");
    one("GEBURTSDATUM 12.03.1984", "DATE_OF_BIRTH", "12.03.1984");
    one("geb. 12.03.1984 in Köln", "DATE_OF_BIRTH", "12.03.1984");
    one("Née le 12/03/1984", "DATE_OF_BIRTH", "12/03/1984");
    // A word that merely contains a context word does not count, nor one
    // cut by the window edge, nor a non-ASCII look-alike word.
    none("Straßenbahn 5, 10115");
    none("Termin 12.03.1984 im Büro");
    let long = format!("Straße{} 10115", "ä".repeat(30));
    none(&long);
}
