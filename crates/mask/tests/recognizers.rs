//! Each recognizer on hand-written text the dev set has never seen.

use custodia_mask::{Detector, Kind};

fn found(text: &str) -> Vec<(String, String)> {
    Detector::new()
        .detect(text)
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
    let f = found(text);
    assert_eq!(
        f,
        vec![(kind.to_string(), value.to_string())],
        "in {text:?}"
    );
}

fn none(text: &str) {
    let f = found(text);
    assert!(f.is_empty(), "expected nothing in {text:?}, got {f:?}");
}

#[test]
fn global_recognizers() {
    one(
        "write to anna.o'neil@mail.example.co.uk, thanks",
        "EMAIL",
        "anna.o'neil@mail.example.co.uk",
    );
    one(
        "Email: x_y-z+tag@sub-domain.example.io.",
        "EMAIL",
        "x_y-z+tag@sub-domain.example.io",
    );
    one(
        "Visa 4111-1111-1111-1111 declined",
        "CREDIT_CARD",
        "4111-1111-1111-1111",
    );
    one("amex 378282246310005", "CREDIT_CARD", "378282246310005");
    one(
        "IBAN GB82 WEST 1234 5698 7654 32.",
        "IBAN",
        "GB82 WEST 1234 5698 7654 32",
    );
    one(
        "iban: DE89370400440532013000",
        "IBAN",
        "DE89370400440532013000",
    );
    one("host (10.0.0.254) is down", "IP_ADDRESS", "10.0.0.254");
    one("open http://10.1.2.3/login now", "IP_ADDRESS", "10.1.2.3");
    one("db at 192.168.0.12:5432.", "IP_ADDRESS", "192.168.0.12");
    one(
        "v6 addr fe80::1ff:fe23:4567:890a here",
        "IP_ADDRESS",
        "fe80::1ff:fe23:4567:890a",
    );
    one(
        "via 2001:db8::8a2e:370:7334.",
        "IP_ADDRESS",
        "2001:db8::8a2e:370:7334",
    );
    one(
        "NIC 00-1A-2B-3C-4D-5E on desk",
        "MAC_ADDRESS",
        "00-1A-2B-3C-4D-5E",
    );
    one("wifi ac:de:48:00:11:22", "MAC_ADDRESS", "ac:de:48:00:11:22");
    one("call me: +44 20 7946 0958", "PHONE", "+44 20 7946 0958");
    one("office (02) 9876 5432 ext", "PHONE", "(02) 9876 5432");
    one("ring 555-867-5309 tonight", "PHONE", "555-867-5309");
    one("mobile 0412 345 678", "PHONE", "0412 345 678");
    one("born on 1984-07-21 in Leeds", "DATE_OF_BIRTH", "1984-07-21");
    one("DOB: 21/07/1984", "DATE_OF_BIRTH", "21/07/1984");
}

#[test]
fn secrets() {
    one(
        "key AKIAIOSFODNN7EXAMPLE leaked",
        "SECRET",
        "AKIAIOSFODNN7EXAMPLE",
    );
    one(
        "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 ok",
        "SECRET",
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    );
    one(
        "glpat-xxxxxxxxxxxxxxxxxxxx.",
        "SECRET",
        "glpat-xxxxxxxxxxxxxxxxxxxx",
    );
    one(
        "slack xoxp-1234567890-abcdefghij",
        "SECRET",
        "xoxp-1234567890-abcdefghij",
    );
    one(
        "stripe sk_live_51HcAbCdEfGhIjKlMn",
        "SECRET",
        "sk_live_51HcAbCdEfGhIjKlMn",
    );
    one(
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl.",
        "SECRET",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    );
    one(
        "Authorization: Bearer abcdef0123456789abcdef",
        "SECRET",
        "abcdef0123456789abcdef",
    );
    one("my password: hunter2!x", "SECRET", "hunter2!x");
    one("password=Sup3rS3cret! and", "SECRET", "Sup3rS3cret!");
    one("(pwd: letmein99).", "SECRET", "letmein99");
    one(
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
        "SECRET",
        "wJalrXUtnFEMI/K7MDENG",
    );
    one("see ?page=2&sig=0a1b2c3d4e", "SECRET", "0a1b2c3d4e");
    none("note: keyboard=qwerty, passport: pending, time 10:30:45");
    one("DB_PASSWORD=\"s3cr3t pass\"", "SECRET", "s3cr3t pass");
    one(
        "GET /cb?code=1&access_token=abc123def456&x=1",
        "SECRET",
        "abc123def456",
    );
    one(
        "clone https://bob:pa55word@git.example.com/r.git",
        "SECRET",
        "bob:pa55word",
    );
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
    one(&format!("here {pem} bye"), "SECRET", pem);
}

/// A postcode named by a postcode word is a `POSTCODE`, whatever its
/// country's format; by its shape alone it is the regional kind.
#[test]
fn postcodes_named_by_a_postcode_word_are_postcodes() {
    one("our postcode is SW1A 1AA", "POSTCODE", "SW1A 1AA");
    one("London SW1A 1AA", "UK_POSTCODE", "SW1A 1AA");
    one("postal code M5V 2T6, please", "POSTCODE", "M5V 2T6");
    one("le code postal J4K 2T7", "POSTCODE", "J4K 2T7");
    // After its province, as an Australian code after its state.
    one("Toronto, ON M5V 3L9", "POSTCODE", "M5V 3L9");
    one("Toronto M5V 3L9", "CA_POSTAL_CODE", "M5V 3L9");
    one("Eircode D02 X285 fails", "POSTCODE", "D02 X285");
    one("eircode: D6W Y2K8", "POSTCODE", "D6W Y2K8");
    one("Eircode T12PX27", "POSTCODE", "T12PX27");
    none("ticket D02 X285 fails");
    // By its shape alone where prose places it: an issued routing key and
    // a letter in the identifier.
    one("the one in D08 VF8H is grand", "POSTCODE", "D08 VF8H");
    one("the galway office (H91 E2W4) too", "POSTCODE", "H91 E2W4");
    none("the one in Z99 VF8H is grand"); // no such routing key
    none("the one in D08 2024 is grand"); // no letter
    none("the one in D08VF8H is grand"); // not spaced
    none("Eircode D02 B285"); // B is no Eircode letter
    one("ZIP+4 is 30303-1234", "POSTCODE", "30303-1234");
    one("zip 90210", "POSTCODE", "90210");
    none("ref 30303-123");
    one("I live in Bondi NSW 2026", "POSTCODE", "2026");
    one(
        "Can you verify Auckland 1010 for the CBD zone?",
        "POSTCODE",
        "1010",
    );
    one(
        "moved to Palmerston North 4410; update it",
        "POSTCODE",
        "4410",
    );
    none("Auckland 2024 conference");
    none("West Auckland 12 staff");
    one("Hobart, TAS 7000", "POSTCODE", "7000");
    none("room 2026 on level 3");
    none("the NSWX 2026 plan");
    none("plz call 1234 today"); // chat's "please" names no 4-digit code
    // A form's label on the line above counts; a CSV header does not.
    one("Postcode:\n6011", "POSTCODE", "6011");
    let csv = "\"id\",\"postcode\"\n\"88120\",\"98101\"";
    assert!(
        found(csv).iter().all(|(_, v)| v != "88120"),
        "{:?}",
        found(csv)
    );
}

/// A second code joined to a named one (`not`, `or`, `and`, `but`) is a
/// `POSTCODE` too, when it has the same length and first digit.
#[test]
fn a_postcode_joined_to_a_named_one() {
    let pair = |text: &str, a: &str, b: &str| {
        assert_eq!(
            found(text),
            [
                ("POSTCODE".to_string(), a.to_string()),
                ("POSTCODE".to_string(), b.to_string())
            ],
            "in {text:?}"
        );
    };
    pair(
        "The ZIP should be 97214, not 97241. In Portland.",
        "97214",
        "97241",
    );
    pair("Die PLZ ist 70173, nicht 70174.", "70173", "70174");
    pair("postcode 3350 or 3355?", "3350", "3355");
    // Another length, another first digit, another line or no link word:
    // no code.
    one("postcode 3350 or 335 units", "POSTCODE", "3350");
    one(
        "The ZIP on the label should be 97214, and the old label said 47241.",
        "POSTCODE",
        "97214",
    );
    one("postcode 3350\nor 3355 units", "POSTCODE", "3350");
    one(
        "postcode 3350 is right; the ticket number on the form is 3355",
        "POSTCODE",
        "3350",
    );
}

#[test]
fn a_postcode_inside_an_address_is_part_of_it() {
    one(
        "Send it to 12 Beach Road, Bondi NSW 2026",
        "ADDRESS",
        "12 Beach Road, Bondi NSW 2026",
    );
}

#[test]
fn regional_recognizers() {
    one("SSN 536-90-4399", "US_SSN", "536-90-4399");
    one("my ITIN is 912-70-1234", "US_ITIN", "912-70-1234");
    one("ABA routing 011000015", "US_BANK_ROUTING", "011000015");
    one("passport 912803456", "US_PASSPORT", "912803456");
    one("NI number AB 12 34 56 C", "UK_NINO", "AB 12 34 56 C");
    one("nhs 943 476 5919", "UK_NHS", "943 476 5919");
    one("London SW1A 1AA", "UK_POSTCODE", "SW1A 1AA");
    one("tax file number 123 456 782", "AU_TFN", "123 456 782");
    one("ABN 51 824 753 556", "AU_ABN", "51 824 753 556");
    one("ACN 005 499 981", "AU_ACN", "005 499 981");
    one("medicare 2123 45670 1", "AU_MEDICARE", "2123 45670 1");
    one("SIN 130-692-544", "CA_SIN", "130-692-544");
    one("Toronto M5V 3L9", "CA_POSTAL_CODE", "M5V 3L9");
    one("IRD 49-091-850", "NZ_IRD", "49-091-850");
    one("NHI ZAC5361", "NZ_NHI", "ZAC5361");
    one("Steuer-ID 86095742719", "DE_TAX_ID", "86095742719");
    one("DNI 12345678Z", "ES_NIF", "12345678Z");
    one("NIE X1234567L", "ES_NIE", "X1234567L");
    one("CF MRTMTT91D08F205J", "IT_FISCAL_CODE", "MRTMTT91D08F205J");
    one("BSN 111222333", "NL_BSN", "111222333");
    one("PESEL 44051401359", "PL_PESEL", "44051401359");
    one("personnummer 811218-9876", "SE_PERSONNUMMER", "811218-9876");
    one("HETU 131052-308T", "FI_HETU", "131052-308T");
    one(
        "INSEE 2 69 05 49 588 157 80",
        "FR_INSEE",
        "2 69 05 49 588 157 80",
    );
}

#[test]
fn presidio_parity_recognizers() {
    // US driver's licence: state shapes, context required.
    one(
        "driver's license D1234567 expired",
        "US_DRIVER_LICENSE",
        "D1234567",
    );
    one("her CDL: 123456789A.", "US_DRIVER_LICENSE", "123456789A");
    one(
        "learner permit 7654321 lost",
        "US_DRIVER_LICENSE",
        "7654321",
    );
    one(
        "DL# WDL12AB3C4D5 no, DL AB123456",
        "US_DRIVER_LICENSE",
        "AB123456",
    );
    one("lic 12ABC12345 (NY)", "US_DRIVER_LICENSE", "12ABC12345");
    // US DEA number (Presidio's MEDICAL_LICENSE): checksum plus context.
    one(
        "DEA number AB1234563 on file",
        "MEDICAL_LICENSE",
        "AB1234563",
    );
    one(
        "prescriber F91234563 signed",
        "MEDICAL_LICENSE",
        "F91234563",
    );
    // UK and Italian passports share a shape: the words decide.
    one("British passport AB1234567", "UK_PASSPORT", "AB1234567");
    one("passport no. YA7654321 renewed", "UK_PASSPORT", "YA7654321");
    one("numero passaporto YA7654321", "IT_PASSPORT", "YA7654321");
    one(
        "documento CA12345AB scaduto",
        "IT_IDENTITY_CARD",
        "CA12345AB",
    );
    // Italian driving licence, both forms.
    one(
        "patente di guida AA1234567B rinnovata",
        "IT_DRIVER_LICENSE",
        "AA1234567B",
    );
    one("patente U1BC12345Z", "IT_DRIVER_LICENSE", "U1BC12345Z");
    // UK driving licence: surname, date of birth and initials structure.
    one(
        "DVLA licence MORGA753116SM9IJ, thanks",
        "UK_DRIVING_LICENCE",
        "MORGA753116SM9IJ",
    );
    one(
        "id LI999802085JA9BC.",
        "UK_DRIVING_LICENCE",
        "LI999802085JA9BC",
    );
    // UK vehicle registration and Spanish passport: context only.
    one(
        "my car AB51 ABC was towed",
        "UK_VEHICLE_REGISTRATION",
        "AB51 ABC",
    );
    one("reg: LR07XYZ.", "UK_VEHICLE_REGISTRATION", "LR07XYZ");
    one("pasaporte AAA123456", "ES_PASSPORT", "AAA123456");
    // US NPI (Luhn with the 80840 prefix) and MBI.
    one("provider NPI 1234567893 billed", "US_NPI", "1234567893");
    one("npi: 1234-567-893", "US_NPI", "1234-567-893");
    one("card 1EG4-TE5-MK73 on file", "US_MBI", "1EG4-TE5-MK73");
    one("Medicare MBI 1EG4TE5MK73", "US_MBI", "1EG4TE5MK73");
    // Swedish organisation number: Luhn, third digit at least 2.
    one(
        "organisationsnummer 556012-5790",
        "SE_ORGANISATIONSNUMMER",
        "556012-5790",
    );
}

#[test]
fn presidio_parity_look_alikes() {
    // Weak shapes without context stay.
    none("order A1234567 shipped, ticket AB1234567 closed, build 7654321");
    none("driver update KB5034441 installed");
    none("driver version 10.2.33 and 4.15.0-91");
    none("license key AB1234 for seat 2; license server LS12345");
    none("license v1 and P1 tickets");
    none("the 123456789A sku and 12ABC12345 batch");
    // Bad checksums stay even with context.
    none("DEA number AB1234564 on file");
    none("organisationsnummer 556012-5791");
    none("provider NPI 1234567894, npi 1111111112");
    none("room AB51 ABC, model GT40 CAR, car AB99 ABC, car IB51 ABC");
    none("batch AAA123456 shipped; pasaporte AAA12345");
    none("licence MORGA713116SM9IJ or MO9GA753116SM9IJ or MORGA753116SM9IJK");
    none("part 1EG4TE5MK73 and 1EG4-TE5-MK7A");
    // Italian shapes without Italian context words.
    none("ref AA1234567B and U1BC12345Z");
}

#[test]
fn look_alikes_stay() {
    none("order 4111 1111 1111 1112 shipped");
    none("release v10.2.33.4 and 1.2.3");
    none("see 666-12-3456 and 000-12-3456 and 912-12-3456");
    none("uuid 123e4567-e89b-12d3-a456-426614174000");
    none("sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    none("total $1,234,567.89 and €12345678 and £44051401359");
    none("ticket INC0012345, INV-2024-00017, #4111111111111111");
    none("at 2026-03-04 15:35:02 the build 12345 failed");
    none("ISBN 978-0-596-52068-7");
    none("IBAN DE89370400440532013001 has a bad check");
    none("the meeting is at 10:30:45 in room 12");
    none("");
    none("e-mail me@ not valid, a@b, @@@");
}

#[test]
fn utf8_spans_are_char_boundaries() {
    let text = "Grüße 🎉 von Zoë: zoë@example.com ist falsch, zoe@exämple.com auch; zoe@example.com stimmt — ☎ +49 30 901820";
    let f = Detector::new().detect(text);
    let got: Vec<&str> = f.iter().map(|f| &text[f.start..f.end]).collect();
    assert!(got.contains(&"zoe@example.com"), "{got:?}");
    assert!(got.contains(&"+49 30 901820"), "{got:?}");
    for x in &f {
        assert!(text.is_char_boundary(x.start) && text.is_char_boundary(x.end));
    }
    // `Zoë` is a given name in the gazetteer.
    assert!(
        f.iter()
            .all(|x| matches!(x.kind, Kind::Email | Kind::Phone | Kind::Person))
    );
    assert!(got.contains(&"Zoë"), "{got:?}");
}

#[test]
fn known_entities_fold_unicode_case() {
    use custodia_mask::KnownEntities;
    let known = KnownEntities::new([
        (Kind::Person, "Zoë Ångström"),
        (Kind::Person, "Émilie"),
        (Kind::Person, "Bob"),
    ])
    .unwrap();
    let text = "ZOË ÅNGSTRÖM wrote to émilie and ÉMILIE; bob, BOB and Bobby 🎉 zoë ångström.";
    let f = Detector::new().detect_with(text, &known);
    let got: Vec<&str> = f.iter().map(|f| &text[f.start..f.end]).collect();
    assert_eq!(
        got,
        [
            "ZOË ÅNGSTRÖM",
            "émilie",
            "ÉMILIE",
            "bob",
            "BOB",
            // Not a known entity: the gazetteer's given name.
            "Bobby",
            "zoë ångström"
        ]
    );
    let gazetteer = f.iter().find(|x| &text[x.range()] == "Bobby");
    assert_eq!(gazetteer.map(|x| &*x.recognizer), Some("person_gazetteer"));
    assert!(f.iter().all(|x| x.kind == Kind::Person));
    // ASCII-only text takes the direct path; invalid UTF-8 is never matched.
    let f = Detector::new().detect_with("hi BOB", &known);
    assert_eq!((f[0].start, f[0].end), (3, 6));
    let bytes = b"\xffZO\xc3\x8b \xc3\x85NGSTR\xc3\x96M\xfe";
    let f = Detector::new().detect_bytes(bytes, Some(&known));
    assert_eq!(f.len(), 1);
    assert_eq!(&bytes[f[0].start..f[0].end], "ZOË ÅNGSTRÖM".as_bytes());
    // A character folded to a shorter one (`İ` → `i`) shifts no span.
    let known = KnownEntities::new([(Kind::Person, "Çelik")]).unwrap();
    let text = "İİ ÇELIK x";
    let f = Detector::new().detect_with(text, &known);
    assert_eq!(&text[f[0].start..f[0].end], "ÇELIK");
}

/// Review C (sixteenth session): a known value was lower-cased as a
/// string (a word-final `Σ` became `ς`) and the text a character at a time
/// (`Σ` → `σ`), so a known upper-case Greek name never matched itself.
#[test]
fn known_entity_in_upper_case_greek_is_masked() {
    use custodia_mask::{KnownEntities, Masker};
    let known = KnownEntities::new([(Kind::Person, "ΝΙΚΟΛΑΟΣ")]).unwrap();
    let m = Masker::new(Detector::new());
    let out = m
        .mask_with("Customer ΝΙΚΟΛΑΟΣ called.", &known, None)
        .unwrap();
    assert!(!out.text.contains("ΝΙΚΟΛΑΟΣ"), "{}", out.text);
    assert_eq!(out.text, "Customer [PERSON] called.");
}

#[test]
fn known_greek_name_matches_upper_case_text() {
    use custodia_mask::{KnownEntities, Masker};
    let known = KnownEntities::new([(Kind::Person, "Νικόλαος Παπαδόπουλος")]).unwrap();
    let m = Masker::new(Detector::new());
    let out = m
        .mask_with(
            "ΝΙΚΌΛΑΟΣ ΠΑΠΑΔΌΠΟΥΛΟΣ called about his invoice.",
            &known,
            None,
        )
        .unwrap();
    assert!(!out.text.contains("ΠΑΠΑΔΌΠΟΥΛΟΣ"), "{}", out.text);
    assert_eq!(out.text, "[PERSON] called about his invoice.");
}

#[test]
fn canadian_sin_first_digit() {
    // 0 is never issued and 8 is for business numbers: Luhn-valid, still no SIN.
    one("SIN 130-692-544", "CA_SIN", "130-692-544");
    one("SIN 046-454-286", "CA_SIN", "046-454-286");
    none("SIN 800-000-002");
}

#[test]
fn german_documents() {
    one(
        "Meine Reisepassnummer ist C01X00T41, bitte prüfen",
        "DE_PASSPORT",
        "C01X00T41",
    );
    one("passport CF4RT7K22 attached", "DE_PASSPORT", "CF4RT7K22");
    one(
        "Personalausweis: L01X00T47 (gültig bis 2031)",
        "DE_ID_CARD",
        "L01X00T47",
    );
    one(
        "die Ausweisnummer T22000129 fehlt",
        "DE_ID_CARD",
        "T22000129",
    );
    one(
        "Fuehrerschein B072RRE2I55 liegt vor",
        "DE_DRIVER_LICENSE",
        "B072RRE2I55",
    );
    one(
        "Führerscheinnummer: M1234567X89 (Klasse B)",
        "DE_DRIVER_LICENSE",
        "M1234567X89",
    );
    one(
        "Fahrerlaubnis J0100000KB1 eingescannt",
        "DE_DRIVER_LICENSE",
        "J0100000KB1",
    );
}

#[test]
fn german_document_look_alikes() {
    // Bad ICAO check digit.
    none("Reisepassnummer C01X00T42 bitte prüfen");
    // Vowels are not in the serial alphabet.
    none("Reisepass CA1X00T41 verloren");
    // Same shapes without context: ticket ids, part numbers.
    none("ticket C01X00T41 closed");
    none("part L01X00T47 back-ordered");
    none("build B072RRE2I55 failed");
    // Context but no digit, or too short.
    none("Personalausweis LMNPRTVWX");
    none("Fahrerlaubnis ABC123 entzogen");
}

#[test]
fn uk_vehicle_registration_older_formats() {
    one("car reg A123 BCD", "UK_VEHICLE_REGISTRATION", "A123 BCD");
    one("vehicle K1 ABC parked", "UK_VEHICLE_REGISTRATION", "K1 ABC");
    one("car reg ABC 123D", "UK_VEHICLE_REGISTRATION", "ABC 123D");
    one("the van is HBW 47K", "UK_VEHICLE_REGISTRATION", "HBW 47K");
    // No context; age letters I, O, Q, U, Z are never used; no leading 0.
    none("order A123 BCD shipped");
    none("car reg I123 BCD");
    none("car reg ABC 123U");
    none("car reg A012 BCD");
    none("car reg AQC 123D");
}

/// Issue 17's edge classes: a value glued to its label by a colon, and
/// numbers from reserved or fictitious ranges (masked: nothing in a ticket
/// says a number is the fictitious one).
#[test]
fn glued_labels_and_fictitious_numbers() {
    one("card:4111111111111111", "CREDIT_CARD", "4111111111111111");
    one(
        "IBAN:DE89370400440532013000",
        "IBAN",
        "DE89370400440532013000",
    );
    one("ssn:536-90-4399 please", "US_SSN", "536-90-4399");
    one("Ref,email:jane@example.com", "EMAIL", "jane@example.com");
    one("call (212) 555-0123 today", "PHONE", "(212) 555-0123");
    one("call 212-555-0199 today", "PHONE", "212-555-0199");
    one("SIN: 046 454 286", "CA_SIN", "046 454 286");
    // Not labels: times, versions, hex and URLs stay as they were.
    none("meet at 10:30 or 11:45");
    none("v2:4111111111111111x");
    none("see https://example.com:4111/path");
}

#[test]
fn a_glued_international_phone_keeps_its_plus() {
    one("phone:+61 2 9374 4000", "PHONE", "+61 2 9374 4000");
}

/// Numbers whose digits are grouped by Unicode spaces or hyphens (a
/// no-break space from a web form or a word processor, a thin or narrow
/// no-break space, a figure space, a non-breaking hyphen, a figure dash),
/// or written in full-width digits (an IME), are found as their ASCII
/// forms are, the whole value masked, spans on character boundaries.
#[test]
fn numbers_with_unicode_separators_or_digits_are_found() {
    let d = Detector::new();
    let cases: [(&str, &str, Kind); 12] = [
        (
            "card ",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            Kind::CreditCard,
        ),
        (
            "card ",
            "4111\u{2009}1111\u{2009}1111\u{2009}1111",
            Kind::CreditCard,
        ),
        (
            "card ",
            "4111\u{202f}1111\u{202f}1111\u{202f}1111",
            Kind::CreditCard,
        ),
        (
            "card ",
            "4111\u{2007}1111\u{2007}1111\u{2007}1111",
            Kind::CreditCard,
        ),
        (
            "card ",
            "4111\u{2011}1111\u{2011}1111\u{2011}1111",
            Kind::CreditCard,
        ),
        (
            "card ",
            "\u{ff14}\u{ff11}\u{ff11}\u{ff11} \u{ff11}\u{ff11}\u{ff11}\u{ff11} \u{ff11}\u{ff11}\u{ff11}\u{ff11} \u{ff11}\u{ff11}\u{ff11}\u{ff11}",
            Kind::CreditCard,
        ),
        (
            "card:",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            Kind::CreditCard,
        ),
        ("ssn ", "123\u{2011}45\u{2011}6789", Kind::UsSsn),
        ("ssn ", "123\u{a0}45\u{a0}6789", Kind::UsSsn),
        ("phone ", "+44\u{a0}20\u{a0}7946\u{a0}0958", Kind::Phone),
        (
            "IBAN ",
            "DE89\u{a0}3704\u{a0}0044\u{a0}0532\u{a0}0130\u{a0}00",
            Kind::Iban,
        ),
        (
            "Tel. ",
            "\u{ff10}\u{ff13}\u{2012}1234\u{2012}5678",
            Kind::Phone,
        ),
    ];
    for (label, value, kind) in cases {
        for (before, after) in [("", ""), ("\u{feff}", ".\r\n"), ("Hi, my ", " thanks")] {
            let text = format!("{before}{label}{value}{after}");
            let found = d.detect(&text);
            for f in &found {
                assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            }
            let start = before.len() + label.len();
            assert!(
                found
                    .iter()
                    .any(|f| f.kind == kind && f.start <= start && f.end >= start + value.len()),
                "{value:?} in {text:?}: {found:?}"
            );
        }
    }
    // Ranges and names keep their readings: an en dash joins a range, a
    // no-break space between words is no number's; no number is read
    // across either.
    for (text, sep) in [
        ("open 0900\u{2013}1700 daily", '\u{2013}'),
        ("2019\u{2013}2020", '\u{2013}'),
        ("Sarah\u{a0}Jones called", '\u{a0}'),
    ] {
        let at = text.find(sep).unwrap();
        for f in d.detect(text) {
            assert!(
                f.kind == Kind::Person || !(f.start <= at && at < f.end),
                "{text:?}: {f:?}"
            );
        }
    }
}

/// The bytes of `found`, as a set of offsets.
fn covered(found: &[custodia_mask::Finding]) -> std::collections::BTreeSet<usize> {
    found.iter().flat_map(|f| f.start..f.end).collect()
}

/// A finding that loses an overlap to one of higher priority keeps its
/// bytes outside the winner: a known person's name inside an address, or
/// a host's finding over part of a phone number, leaves none of the
/// address or the number in clear.
#[test]
fn overlap_resolution_leaves_no_part_of_a_value_in_clear() {
    use custodia_mask::KnownEntities;
    let d = Detector::new();
    let cases = [
        (
            "Victoria",
            "Deliver to 12 Victoria Street, Wellington 6011 please.",
        ),
        (
            "Kings",
            "Ship it to 14 Kings Road, Dublin 4, D04 XN32 today.",
        ),
        ("Jane", "Her email is jane.doe@example.com, thanks."),
        ("4111", "card 4111 1111 1111 1111 was declined"),
    ];
    for (value, text) in cases {
        let alone = d.detect(text);
        assert!(!alone.is_empty(), "{text:?}");
        let known = KnownEntities::new([(Kind::Person, value)]).unwrap();
        let with = d.detect_with(text, &known);
        let (before, after) = (covered(&alone), covered(&with));
        // (The spaces between the parts may stay.)
        let clear: Vec<usize> = before
            .difference(&after)
            .copied()
            .filter(|&k| !text.as_bytes()[k].is_ascii_whitespace())
            .collect();
        assert!(clear.is_empty(), "{text:?}: {alone:?} then {with:?}");
        // (Well-formed: sorted, disjoint, on character boundaries.)
        for w in with.windows(2) {
            assert!(w[0].end <= w[1].start, "{with:?}");
        }
    }
}

/// An address that starts inside a finding of the scanner (`token:
/// Suite` read as a secret's value) is resolved against it, not dropped
/// whole: its rest (`412, 1 Brookings Dr, …`) was left in clear.
#[test]
fn an_address_starting_inside_a_secret_is_not_dropped() {
    let text =
        "Mailing address for the hardware token: Suite 412, 1 Brookings Dr, St. Louis, MO 63130.";
    let found = Detector::new().detect(text);
    let rest = text.find("412").unwrap()..text.find("63130").unwrap() + 5;
    let masked = covered(&found);
    let clear: String = rest
        .filter(|k| !masked.contains(k))
        .map(|k| char::from(text.as_bytes()[k]))
        .collect();
    assert!(clear.trim().is_empty(), "{clear:?} in clear: {found:?}");
    // A name inside a token or an IBAN stays no name.
    let found = Detector::new().detect("token: Sarah42 and IBAN GB82 WEST 1234 5698 7654 32");
    assert!(found.iter().all(|f| f.kind != Kind::Person), "{found:?}");
}

/// The error for an unknown region lists every name the parser takes.
#[test]
fn an_unknown_regions_error_names_every_region_accepted() {
    let e = "us,mars"
        .parse::<custodia_mask::Regions>()
        .unwrap_err()
        .to_string();
    for name in [
        "us", "uk", "gb", "au", "ca", "nz", "eu", "de", "all", "none",
    ] {
        assert!(
            e.contains(&format!(" {name},")) || e.contains(&format!(" {name}")),
            "{name}: {e}"
        );
        let _ = name.parse::<custodia_mask::Regions>().unwrap();
    }
    assert!(
        e.contains(" de") && e.contains(" none") && e.contains(" gb"),
        "{e}"
    );
}
