//! The single-pass byte scanner behind the built-in recognizers.
//!
//! One loop walks the bytes. Most bytes (lower-case letters, spaces,
//! punctuation) belong to class 0 and are skipped by a tight inner loop. The
//! few trigger bytes start a hand-written matcher at that spot only:
//!
//! | trigger | matchers |
//! |---|---|
//! | digit at a token start | numbers (cards, national ids, IPv4, dates, German tax and health numbers, postcodes), phones, NIF, HETU, MAC, Telematik-ID, pension number |
//! | `+`, `(` before a digit | phones |
//! | upper-case letter at a token start | IBAN, NINO, AWS keys, bearer tokens, postcodes, NHI, NIE, fiscal code, passports, German VAT id, commercial register, KVNR, plates, documents |
//! | `@` | email, URL credentials (look back over the local part) |
//! | `_`, `-` | token prefixes `ghp_`, `sk_live_`, `xoxb-`, `glpat-`, …; `-----BEGIN` private keys (body walked line by line to the end line) |
//! | `J` after `ey` | JWTs |
//! | `:` | MAC and IPv6 (look back over hex), `password:`-style assignments |
//! | `=` | `password=`, `token=`, `api_key=` assignments and query parameters |
//!
//! Every matcher reads a bounded number of bytes forward (or, for look-backs,
//! never behind the end of the previous finding and never more than a few
//! dozen bytes), and the loop resumes after the match or after the current
//! alphanumeric run, so the whole scan is linear in the input length.

use crate::checksum as ck;

macro_rules! words {
    ($($w:literal),* $(,)?) => {{
        const P: &CtxWords = &CtxWords::new(&pack_all([$($w),*]));
        P
    }};
}

/// Keys whose `:` or `=` value is a secret.
const ASSIGN_KEYS: &CtxWords = words![
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "secret",
    "api_key",
    "apikey",
    "api-key",
    "access_token",
    "auth_token",
    "refresh_token",
    "token",
    "private_key",
    "access_key",
    "authorization",
];
/// Keys whose value is a secret in a query string or `key=value` pair.
const QUERY_KEYS: &CtxWords = words!["key", "sig", "signature", "client_secret", "code"];

/// A kind's context words, packed, with a 64-bucket filter so most checks
/// cost one AND.
pub(crate) struct CtxWords {
    filter: u64,
    words: [u128; 20],
    n: usize,
}

impl CtxWords {
    fn contains(&self, p: u128) -> bool {
        self.filter & (1u64 << bucket(p)) != 0 && self.words[..self.n].contains(&p)
    }

    pub(crate) const fn new(words: &[u128]) -> CtxWords {
        let mut c = CtxWords {
            filter: 0,
            words: [0; 20],
            n: 0,
        };
        let mut i = 0;
        while i < words.len() && i < 20 {
            c.words[i] = words[i];
            c.filter |= 1u64 << bucket(words[i]);
            i += 1;
        }
        c.n = i;
        c
    }
}

/// Filter bucket (0..64) of a packed word.
const fn bucket(w: u128) -> u32 {
    let x = (w as u64) ^ ((w >> 64) as u64);
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as u32
}

/// Built-in kinds as a compact copyable index for the scanner.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum K {
    Email,
    Phone,
    CreditCard,
    Iban,
    IpAddress,
    MacAddress,
    Secret,
    DateOfBirth,
    UsSsn,
    UsItin,
    UsBankRouting,
    UsPassport,
    UsBankNumber,
    UsDriverLicense,
    MedicalLicense,
    UsNpi,
    UsMbi,
    UkNino,
    UkNhs,
    UkPostcode,
    UkPassport,
    UkDrivingLicence,
    UkVehicleRegistration,
    AuTfn,
    AuAbn,
    AuAcn,
    AuMedicare,
    CaSin,
    CaPostalCode,
    NzIrd,
    NzNhi,
    DeTaxId,
    DeIdCard,
    DePassport,
    DeDriverLicense,
    DeBsnr,
    DeCommercialRegister,
    DeKvnr,
    DeLanr,
    DeLicensePlate,
    DePersonalId,
    DePostalCode,
    DeSocialSecurity,
    DeTaxNumber,
    DeTelematikId,
    DeVatCode,
    EsNif,
    EsNie,
    EsPassport,
    ItFiscalCode,
    ItVatCode,
    ItPassport,
    ItIdentityCard,
    ItDriverLicense,
    NlBsn,
    PlPesel,
    SePersonnummer,
    SeOrganisationsnummer,
    FiHetu,
    FrInsee,
}

impl K {
    pub(crate) const ALL: [K; 60] = [
        K::Email,
        K::Phone,
        K::CreditCard,
        K::Iban,
        K::IpAddress,
        K::MacAddress,
        K::Secret,
        K::DateOfBirth,
        K::UsSsn,
        K::UsItin,
        K::UsBankRouting,
        K::UsPassport,
        K::UsBankNumber,
        K::UsDriverLicense,
        K::MedicalLicense,
        K::UsNpi,
        K::UsMbi,
        K::UkNino,
        K::UkNhs,
        K::UkPostcode,
        K::UkPassport,
        K::UkDrivingLicence,
        K::UkVehicleRegistration,
        K::AuTfn,
        K::AuAbn,
        K::AuAcn,
        K::AuMedicare,
        K::CaSin,
        K::CaPostalCode,
        K::NzIrd,
        K::NzNhi,
        K::DeTaxId,
        K::DeIdCard,
        K::DePassport,
        K::DeDriverLicense,
        K::DeBsnr,
        K::DeCommercialRegister,
        K::DeKvnr,
        K::DeLanr,
        K::DeLicensePlate,
        K::DePersonalId,
        K::DePostalCode,
        K::DeSocialSecurity,
        K::DeTaxNumber,
        K::DeTelematikId,
        K::DeVatCode,
        K::EsNif,
        K::EsNie,
        K::EsPassport,
        K::ItFiscalCode,
        K::ItVatCode,
        K::ItPassport,
        K::ItIdentityCard,
        K::ItDriverLicense,
        K::NlBsn,
        K::PlPesel,
        K::SePersonnummer,
        K::SeOrganisationsnummer,
        K::FiHetu,
        K::FrInsee,
    ];

    pub(crate) fn kind(self) -> crate::Kind {
        use crate::Kind as P;
        match self {
            K::Email => P::Email,
            K::Phone => P::Phone,
            K::CreditCard => P::CreditCard,
            K::Iban => P::Iban,
            K::IpAddress => P::IpAddress,
            K::MacAddress => P::MacAddress,
            K::Secret => P::Secret,
            K::DateOfBirth => P::DateOfBirth,
            K::UsSsn => P::UsSsn,
            K::UsItin => P::UsItin,
            K::UsBankRouting => P::UsBankRouting,
            K::UsPassport => P::UsPassport,
            K::UsBankNumber => P::UsBankNumber,
            K::UsDriverLicense => P::UsDriverLicense,
            K::MedicalLicense => P::MedicalLicense,
            K::UsNpi => P::UsNpi,
            K::UsMbi => P::UsMbi,
            K::UkNino => P::UkNino,
            K::UkNhs => P::UkNhs,
            K::UkPostcode => P::UkPostcode,
            K::UkPassport => P::UkPassport,
            K::UkDrivingLicence => P::UkDrivingLicence,
            K::UkVehicleRegistration => P::UkVehicleRegistration,
            K::AuTfn => P::AuTfn,
            K::AuAbn => P::AuAbn,
            K::AuAcn => P::AuAcn,
            K::AuMedicare => P::AuMedicare,
            K::CaSin => P::CaSin,
            K::CaPostalCode => P::CaPostalCode,
            K::NzIrd => P::NzIrd,
            K::NzNhi => P::NzNhi,
            K::DeTaxId => P::DeTaxId,
            K::DeIdCard => P::DeIdCard,
            K::DePassport => P::DePassport,
            K::DeDriverLicense => P::DeDriverLicense,
            K::DeBsnr => P::DeBsnr,
            K::DeCommercialRegister => P::DeCommercialRegister,
            K::DeKvnr => P::DeKvnr,
            K::DeLanr => P::DeLanr,
            K::DeLicensePlate => P::DeLicensePlate,
            K::DePersonalId => P::DePersonalId,
            K::DePostalCode => P::DePostalCode,
            K::DeSocialSecurity => P::DeSocialSecurity,
            K::DeTaxNumber => P::DeTaxNumber,
            K::DeTelematikId => P::DeTelematikId,
            K::DeVatCode => P::DeVatCode,
            K::EsNif => P::EsNif,
            K::EsNie => P::EsNie,
            K::EsPassport => P::EsPassport,
            K::ItFiscalCode => P::ItFiscalCode,
            K::ItVatCode => P::ItVatCode,
            K::ItPassport => P::ItPassport,
            K::ItIdentityCard => P::ItIdentityCard,
            K::ItDriverLicense => P::ItDriverLicense,
            K::NlBsn => P::NlBsn,
            K::PlPesel => P::PlPesel,
            K::SePersonnummer => P::SePersonnummer,
            K::SeOrganisationsnummer => P::SeOrganisationsnummer,
            K::FiHetu => P::FiHetu,
            K::FrInsee => P::FrInsee,
        }
    }

    /// The region the recognizer belongs to (`None`: global).
    pub(crate) fn region(self) -> Option<crate::Regions> {
        use crate::Regions as R;
        Some(match self {
            K::UsSsn
            | K::UsItin
            | K::UsBankRouting
            | K::UsPassport
            | K::UsBankNumber
            | K::UsDriverLicense
            | K::MedicalLicense
            | K::UsNpi
            | K::UsMbi => R::US,
            K::UkNino
            | K::UkNhs
            | K::UkPostcode
            | K::UkPassport
            | K::UkDrivingLicence
            | K::UkVehicleRegistration => R::UK,
            K::AuTfn | K::AuAbn | K::AuAcn | K::AuMedicare => R::AU,
            K::CaSin | K::CaPostalCode => R::CA,
            K::NzIrd | K::NzNhi => R::NZ,
            K::DeTaxId
            | K::DeIdCard
            | K::DePassport
            | K::DeDriverLicense
            | K::DeBsnr
            | K::DeCommercialRegister
            | K::DeKvnr
            | K::DeLanr
            | K::DeLicensePlate
            | K::DePersonalId
            | K::DePostalCode
            | K::DeSocialSecurity
            | K::DeTaxNumber
            | K::DeTelematikId
            | K::DeVatCode => R::DE,
            K::EsNif
            | K::EsNie
            | K::EsPassport
            | K::ItFiscalCode
            | K::ItVatCode
            | K::ItPassport
            | K::ItIdentityCard
            | K::ItDriverLicense
            | K::NlBsn
            | K::PlPesel
            | K::SePersonnummer
            | K::SeOrganisationsnummer
            | K::FiHetu
            | K::FrInsee => R::EU_OTHER,
            _ => return None,
        })
    }

    /// Context words (whole words, written in their simple case folding,
    /// non-ASCII allowed: `straße`, `führerschein`) that raise confidence
    /// when they occur within the few words before a match.
    pub(crate) fn context(self) -> &'static CtxWords {
        match self {
            K::Email => words!["email", "mail", "e"],
            K::Phone => words![
                "phone",
                "tel",
                "telephone",
                "mobile",
                "cell",
                "call",
                "callback",
                "contact",
                "fax",
                "whatsapp",
                "sms",
                "ring",
                "reach",
                "landline",
                "text",
            ],
            K::CreditCard => words![
                "card",
                "visa",
                "mastercard",
                "amex",
                "credit",
                "debit",
                "payment",
                "cc"
            ],
            K::Iban => words!["iban", "account", "bank", "transfer"],
            K::IpAddress => words!["ip", "server", "host", "address", "from", "client"],
            K::MacAddress => words!["mac", "hardware", "ethernet", "wifi"],
            K::Secret => words!["password", "token", "key", "secret"],
            K::DateOfBirth => words![
                "birth",
                "born",
                "dob",
                "birthday",
                "birthdate",
                "geboren",
                "geb",
                "geburtsdatum",
                "geburtstag",
                "nee",
                "née",
                "né",
                "naissance",
                "nacimiento",
                "nascita",
            ],
            K::UsSsn => words!["ssn", "social", "security", "ss"],
            K::UsItin => words!["itin", "taxpayer"],
            K::UsBankRouting => words!["routing", "aba", "rtn", "transit"],
            K::UsPassport => words!["passport"],
            K::UsBankNumber => words!["account", "acct", "bank", "checking", "savings"],
            // Not `driver` alone: "driver update KB5034441" is a patch.
            K::UsDriverLicense => words![
                "license", "licence", "lic", "dl", "dls", "cdl", "cdls", "permit",
            ],
            K::MedicalLicense => words![
                "dea",
                "medical",
                "certificate",
                "prescriber",
                "registration"
            ],
            K::UsNpi => words!["npi", "provider", "taxonomy"],
            K::UsMbi => words!["medicare", "mbi", "beneficiary", "cms", "medicaid", "hicn"],
            K::UkNino => words!["nino", "insurance", "ni"],
            K::UkNhs => words!["nhs", "health"],
            K::UkPostcode => words!["postcode", "post", "address"],
            K::UkPassport => words!["uk", "british", "hmpo", "majesty", "hm"],
            K::UkDrivingLicence => words!["driving", "licence", "license", "dvla", "dl"],
            K::UkVehicleRegistration => words![
                "vehicle",
                "registration",
                "plate",
                "reg",
                "vrn",
                "dvla",
                "logbook",
                "mot",
                "car",
                "van",
            ],
            K::AuTfn => words!["tfn", "tax"],
            K::AuAbn => words!["abn", "business"],
            K::AuAcn => words!["acn", "company"],
            K::AuMedicare => words!["medicare"],
            K::CaSin => words!["sin", "social", "insurance"],
            K::CaPostalCode => words!["postal", "code", "address"],
            K::NzIrd => words!["ird", "inland", "revenue", "gst"],
            K::NzNhi => words!["nhi", "health"],
            K::DeIdCard => words![
                "personalausweis",
                "personalausweisnummer",
                "ausweis",
                "ausweisnummer",
                "ausweisdokument",
                "perso",
            ],
            K::DePassport => words![
                "reisepass",
                "reisepassnummer",
                "passnummer",
                "passport",
                "dokumentennummer",
            ],
            K::DeDriverLicense => words![
                "führerschein",
                "fuhrerschein",
                "fuehrerschein",
                "führerscheinnummer",
                "fuhrerscheinnummer",
                "fuehrerscheinnummer",
                "fahrerlaubnis",
                "fahrerlaubnisnummer",
            ],
            K::DeTaxId => words![
                "steuer",
                "steuerid",
                "idnr",
                "steueridentifikationsnummer",
                "tax"
            ],
            K::DeBsnr => words![
                "bsnr",
                "betriebsstättennummer",
                "betriebsstätte",
                "betriebsstaette",
                "betriebsstättennr",
                "praxisnummer",
                "arztpraxis",
                "praxis",
                "kassenärztliche",
                "kv",
                "praxisadresse",
                "praxisstandort",
                "nebenbetriebsstätte",
                "hauptbetriebsstätte",
                "behandlungsort",
                "vertragsarztpraxis",
            ],
            K::DeCommercialRegister => words![
                "handelsregister",
                "handelsregisternummer",
                "hrnr",
                "registernummer",
                "register",
                "amtsgericht",
                "registergericht",
                "eingetragen",
                "firmenbuch",
                "commercial",
            ],
            K::DeKvnr => words![
                "kvnr",
                "krankenversichertennummer",
                "versichertennummer",
                "versichertennr",
                "versicherten",
                "versicherte",
                "krankenkasse",
                "krankenversicherung",
                "patientennummer",
                "patienten",
                "patient",
                "insurance",
                "egk",
            ],
            K::DeLanr => words![
                "lanr",
                "arztnummer",
                "arztnr",
                "arzt",
                "lebenslange",
                "physician",
                "doctor",
            ],
            K::DeLicensePlate => words![
                "kennzeichen",
                "kfz",
                "fahrzeugkennzeichen",
                "nummernschild",
                "autokennzeichen",
                "fahrzeug",
                "auto",
                "plate",
                "fahrzeugregistrierung",
                "pkw",
                "lkw",
            ],
            K::DePersonalId => words![
                "personalausweis",
                "personalausweisnummer",
                "ausweisnummer",
                "ausweisnr",
                "ausweis",
                "identitätskarte",
                "perso",
                "identity",
            ],
            K::DePostalCode => words![
                "postleitzahl",
                "plz",
                "postcode",
                "postal",
                "ort",
                "wohnort",
                "stadt",
                "anschrift",
                "adresse",
                "straße",
                "strasse",
                "wohnhaft",
            ],
            K::DeSocialSecurity => words![
                "rentenversicherungsnummer",
                "sozialversicherungsnummer",
                "versicherungsnummer",
                "rvnr",
                "svnr",
                "sv",
                "rente",
                "rentenversicherung",
                "drv",
                "sozialversicherung",
                "sozialversicherungsausweis",
                "rentenausweis",
                "social",
            ],
            K::DeTaxNumber => words![
                "steuernummer",
                "steuer",
                "stnr",
                "st",
                "finanzamt",
                "umsatzsteuer",
                "einkommensteuer",
                "körperschaftsteuer",
                "gewerbesteuer",
                "steuerveranlagung",
                "steuerbescheid",
                "tax",
            ],
            K::DeTelematikId => words![
                "telematik",
                "telematikid",
                "gesundheits",
                "gesundheitsid",
                "ehba",
                "smc",
                "heilberufsausweis",
                "health",
                "versicherten",
                "ti",
                "telematics",
                "rezept",
                "epa",
                "patientenakte",
            ],
            K::DeVatCode => words![
                "umsatzsteuer",
                "umsatzsteuerid",
                "ust",
                "ustid",
                "ustidnr",
                "vat",
                "steuernummer",
                "idnr",
                "identifikationsnummer",
            ],
            K::EsNif => words!["nif", "dni"],
            K::EsNie => words!["nie"],
            K::EsPassport => words!["pasaporte", "passport"],
            K::ItFiscalCode => words!["fiscale", "codice", "cf", "fiscal"],
            K::ItVatCode => words!["iva", "vat", "partita"],
            K::ItPassport => words!["passaporto", "passport"],
            K::ItIdentityCard => words!["carta", "identita", "identity", "cie", "documento"],
            K::ItDriverLicense => words!["patente", "guida", "driving", "licence", "license"],
            K::NlBsn => words!["bsn", "burgerservicenummer", "sofinummer"],
            K::PlPesel => words!["pesel"],
            K::SePersonnummer => words!["personnummer", "personnr"],
            K::SeOrganisationsnummer => {
                words!["organisationsnummer", "orgnr", "org", "organisation"]
            }
            K::FiHetu => words!["hetu", "henkilotunnus"],
            K::FrInsee => words!["insee", "nir", "secu", "securite", "sociale"],
        }
    }

    /// The recognizer's stable name, reported with each finding.
    pub(crate) fn recognizer(self) -> &'static str {
        match self {
            K::Email => "email",
            K::Phone => "phone",
            K::CreditCard => "credit_card_luhn",
            K::Iban => "iban_mod97",
            K::IpAddress => "ip_address",
            K::MacAddress => "mac_address",
            K::Secret => "secret",
            K::DateOfBirth => "date_of_birth",
            K::UsSsn => "us_ssn",
            K::UsItin => "us_itin",
            K::UsBankRouting => "us_aba_routing",
            K::UsPassport => "us_passport",
            K::UsBankNumber => "us_bank_number",
            K::UsDriverLicense => "us_driver_license",
            K::MedicalLicense => "us_dea_checksum",
            K::UsNpi => "us_npi_luhn",
            K::UsMbi => "us_mbi",
            K::UkNino => "uk_nino",
            K::UkNhs => "uk_nhs_mod11",
            K::UkPostcode => "uk_postcode",
            K::UkPassport => "uk_passport",
            K::UkDrivingLicence => "uk_driving_licence",
            K::UkVehicleRegistration => "uk_vehicle_registration",
            K::AuTfn => "au_tfn",
            K::AuAbn => "au_abn_mod89",
            K::AuAcn => "au_acn",
            K::AuMedicare => "au_medicare",
            K::CaSin => "ca_sin_luhn",
            K::CaPostalCode => "ca_postal_code",
            K::NzIrd => "nz_ird_mod11",
            K::NzNhi => "nz_nhi",
            K::DeTaxId => "de_tax_id",
            K::DeIdCard => "de_id_card",
            K::DePassport => "de_passport_icao",
            K::DeDriverLicense => "de_driver_license",
            K::DeBsnr => "de_bsnr",
            K::DeCommercialRegister => "de_commercial_register",
            K::DeKvnr => "de_kvnr",
            K::DeLanr => "de_lanr",
            K::DeLicensePlate => "de_license_plate",
            K::DePersonalId => "de_personal_id",
            K::DePostalCode => "de_postal_code",
            K::DeSocialSecurity => "de_social_security",
            K::DeTaxNumber => "de_tax_number",
            K::DeTelematikId => "de_telematik_id",
            K::DeVatCode => "de_vat_code",
            K::EsNif => "es_nif",
            K::EsNie => "es_nie",
            K::EsPassport => "es_passport",
            K::ItFiscalCode => "it_fiscal_code",
            K::ItVatCode => "it_vat_code",
            K::ItPassport => "it_passport",
            K::ItIdentityCard => "it_identity_card",
            K::ItDriverLicense => "it_driver_license",
            K::NlBsn => "nl_bsn",
            K::PlPesel => "pl_pesel",
            K::SePersonnummer => "se_personnummer",
            K::SeOrganisationsnummer => "se_organisationsnummer_luhn",
            K::FiHetu => "fi_hetu",
            K::FrInsee => "fr_insee",
        }
    }
}

/// Which built-in kinds are on (bit `K as u8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KindSet(pub(crate) u64);

impl KindSet {
    #[inline]
    pub(crate) fn has(self, k: K) -> bool {
        self.0 & (1u64 << (k as u8)) != 0
    }
}

/// The boost a context word gives, as in Presidio.
pub(crate) const CONTEXT_BOOST: f32 = 0.35;

const C_DIGIT: u8 = 1;
const C_UPPER: u8 = 2;
const C_AT: u8 = 3;
const C_PLUS_PAREN: u8 = 4;
const C_DASH: u8 = 5;
const C_COLON: u8 = 6;
const C_EQ: u8 = 7;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = C_DIGIT;
        c += 1;
    }
    c = b'A';
    while c <= b'Z' {
        t[c as usize] = C_UPPER;
        c += 1;
    }
    t[b'@' as usize] = C_AT;
    t[b'+' as usize] = C_PLUS_PAREN;
    t[b'(' as usize] = C_PLUS_PAREN;
    t[b'-' as usize] = C_DASH;
    t[b'_' as usize] = C_DASH;
    t[b':' as usize] = C_COLON;
    t[b'=' as usize] = C_EQ;
    t
}

static CLASS: [u8; 256] = classes();

#[inline]
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

#[inline]
fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

#[inline]
fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// Is `i` the start of a token: not inside a word, a dotted version, a
/// hyphenated id or an amount?
fn token_start(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = b[i - 1];
    if is_alnum(p) || matches!(p, b'$' | b'#' | b'_' | b'&' | b'%' | b'\\' | b'@') {
        return false;
    }
    if matches!(p, b'.' | b'-' | b':' | b'/' | b'+') && i >= 2 && is_alnum(b[i - 2]) {
        return false;
    }
    // A currency sign just before (€, £, ¥ are multi-byte; their last byte
    // is a continuation byte): treat amounts as amounts.
    if i >= 2 && matches!(&b[i - 2..i], [0xC2, 0xA3] | [0xC2, 0xA5]) {
        return false;
    }
    if i >= 3 && b[i - 3..i] == [0xE2, 0x82, 0xAC] {
        return false;
    }
    true
}

/// Does a match ending at `e` end a token (so `12.3` or `abc1` continue it)?
#[inline]
fn token_end(b: &[u8], e: usize) -> bool {
    let n = at(b, e);
    if is_alnum(n) || n == b'_' || n == b'@' {
        return false;
    }
    if matches!(n, b'.' | b'-' | b':' | b'/' | b',') && is_alnum(at(b, e + 1)) {
        // `1,234` or `12.5` continue a number; `a-b` a word.
        return n == b',' && !at(b, e + 1).is_ascii_digit();
    }
    true
}

fn skip_alnum(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_alnum(b[i]) {
        i += 1;
    }
    i
}

/// Case-folded words just before `start` (nearest first), at most
/// `MAX_CTX` of them within `CTX_BYTES` bytes.
#[derive(Clone, Copy)]
struct Context {
    words: [u128; MAX_CTX],
    n: usize,
    filter: u64,
    /// Each word's filter bucket.
    buckets: [u8; MAX_CTX],
}

const MAX_CTX: usize = 6;
const CTX_BYTES: usize = 48;

impl Context {
    fn before(b: &[u8], start: usize) -> Context {
        let mut c = Context {
            words: [0; MAX_CTX],
            n: 0,
            filter: 0,
            buckets: [0; MAX_CTX],
        };
        let lo = start.saturating_sub(CTX_BYTES);
        let mut buf = [0u8; CTX_BYTES + 16];
        buf[..start - lo].copy_from_slice(&b[lo..start]);
        // Bit k set: buf[k] is an ASCII letter (vectorisable).
        let mut mask: u64 = 0;
        let mut high: u64 = 0;
        for (k, chunk) in buf[..CTX_BYTES].chunks_exact(8).enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let v = u64::from_le_bytes(w);
            high |= v;
            mask |= letter_bits(v) << (8 * k);
        }
        if high & 0x8080_8080_8080_8080 != 0 {
            // Non-ASCII words (`Straße`, `Geburtsdatum`, `Führerschein`):
            // the slower Unicode path, only for windows that need it.
            return Context::before_unicode(b, lo, start);
        }
        // A word cut by the window edge is not a word.
        if lo > 0 && b[lo - 1].is_ascii_alphabetic() {
            let cut = (!mask).trailing_zeros();
            mask &= !((1u64 << cut) - 1);
        }
        while mask != 0 && c.n < MAX_CTX {
            let hi = 63 - mask.leading_zeros() as usize; // last letter of the nearest word
            let below = !mask & ((1u64 << hi) - 1);
            let st = if below == 0 {
                0
            } else {
                64 - below.leading_zeros() as usize
            };
            let len = hi + 1 - st;
            // Longer words count by their first 16 letters (as `pack` does).
            c.words[c.n] = {
                let mut w = [0u8; 16];
                w.copy_from_slice(&buf[st..st + 16]);
                let x = u128::from_le_bytes(w) | 0x2020_2020_2020_2020_2020_2020_2020_2020;
                if len >= 16 {
                    x
                } else {
                    x & ((1u128 << (8 * len)) - 1)
                }
            };
            let k = bucket(c.words[c.n]);
            c.buckets[c.n] = k as u8;
            c.filter |= 1u64 << k;
            c.n += 1;
            mask &= (1u64 << st) - 1;
        }
        c
    }

    /// [`Context::before`] for a window with non-ASCII bytes: words are runs
    /// of alphabetic characters, folded per Unicode simple case folding
    /// ([`fold`]) and packed by their first 16 UTF-8 bytes, as the word
    /// lists are (which are written folded). Invalid UTF-8 separates words.
    #[cold]
    fn before_unicode(b: &[u8], lo: usize, start: usize) -> Context {
        let mut c = Context {
            words: [0; MAX_CTX],
            n: 0,
            filter: 0,
            buckets: [0; MAX_CTX],
        };
        let mut p = lo;
        while p < start && b[p] & 0xC0 == 0x80 {
            p += 1;
        }
        // A word cut by the window edge is not a word.
        let mut cut = p > 0 && {
            let mut q = p - 1;
            while q > 0 && p - q < 4 && b[q] & 0xC0 == 0x80 {
                q -= 1;
            }
            std::str::from_utf8(&b[q..p])
                .ok()
                .and_then(|t| t.chars().next_back())
                .is_some_and(char::is_alphabetic)
        };
        // Words in order, then the last MAX_CTX of them, nearest first.
        let mut all = [0u128; CTX_BYTES];
        let mut n = 0usize;
        let mut cur = [0u8; 16];
        let mut len = 0usize;
        let mut in_word = false;
        let mut finish =
            |cur: &mut [u8; 16], len: &mut usize, in_word: &mut bool, cut: &mut bool| {
                if *in_word {
                    if !*cut && n < all.len() {
                        all[n] = u128::from_le_bytes(*cur);
                        n += 1;
                    }
                    *cut = false;
                }
                *cur = [0; 16];
                *len = 0;
                *in_word = false;
            };
        for chunk in b[p..start].utf8_chunks() {
            for ch in chunk.valid().chars() {
                if ch.is_alphabetic() {
                    in_word = true;
                    let mut tmp = [0u8; 4];
                    for &x in fold(ch).encode_utf8(&mut tmp).as_bytes() {
                        if len < 16 {
                            cur[len] = x;
                            len += 1;
                        }
                    }
                } else {
                    finish(&mut cur, &mut len, &mut in_word, &mut cut);
                    cut = false;
                }
            }
            if !chunk.invalid().is_empty() {
                finish(&mut cur, &mut len, &mut in_word, &mut cut);
                cut = false;
            }
        }
        finish(&mut cur, &mut len, &mut in_word, &mut cut);
        for &w in all[..n].iter().rev().take(MAX_CTX) {
            c.words[c.n] = w;
            let k = bucket(w);
            c.buckets[c.n] = k as u8;
            c.filter |= 1u64 << k;
            c.n += 1;
        }
        c
    }

    /// The nearest word says a licence is software's, not a person's.
    fn soft_licence(&self) -> bool {
        const SOFT: &CtxWords = words!["key", "keys", "server", "seat", "seats", "file", "plan"];
        self.n > 0 && SOFT.contains(self.words[0])
    }

    fn has(&self, words: &CtxWords) -> bool {
        const { assert!(CTX_BYTES.is_multiple_of(8) && CTX_BYTES <= 64) };
        if self.filter & words.filter == 0 {
            return false;
        }
        // Which words pass the list's filter, without branches; then only
        // those are looked up.
        let mut pass = 0u32;
        for k in 0..MAX_CTX {
            let live = u32::from(k < self.n && self.words[k] != 0);
            pass |= (((words.filter >> self.buckets[k]) & 1) as u32 & live) << k;
        }
        while pass != 0 {
            let k = pass.trailing_zeros() as usize;
            if words.words[..words.n].contains(&self.words[k]) {
                return true;
            }
            pass &= pass - 1;
        }
        false
    }
}

/// Unicode simple case folding of one character, as context words need it:
/// `char::to_lowercase` where that gives one character (`Ä` → `ä`, `ẞ` →
/// `ß`), plus the simple foldings lower-casing misses (`ς` → `σ`, `ſ` →
/// `s`); characters whose lower case is longer (`İ`) have no simple folding
/// and stay.
pub(crate) fn fold(c: char) -> char {
    match c {
        'ς' => 'σ',
        'ſ' => 's',
        'ι' | '\u{345}' | '\u{1FBE}' => 'ι',
        _ => {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        }
    }
}

/// Bit k set iff byte k of `v` (little-endian) is an ASCII letter (SWAR).
#[inline]
fn letter_bits(v: u64) -> u64 {
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HI: u64 = 0x8080_8080_8080_8080;
    let y = (v | 0x2020_2020_2020_2020) & LO7;
    let ge_a = y + 0x1F1F_1F1F_1F1F_1F1F; // high bit: y >= 'a'
    let gt_z = y + 0x0505_0505_0505_0505; // high bit: y > 'z'
    let letters = ge_a & !gt_z & !v & HI;
    ((letters >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// A lower-case ASCII word packed into an integer: its first 16 bytes, so
/// `steueridentifikationsnummer` and `organisationsnummer` count by their
/// 16-letter prefix (0 for the empty word, which never matches).
const fn pack(w: &[u8]) -> u128 {
    if w.is_empty() {
        return 0;
    }
    let mut x: u128 = 0;
    let mut i = 0;
    while i < w.len() && i < 16 {
        x |= (w[i].to_ascii_lowercase() as u128) << (8 * i);
        i += 1;
    }
    x
}

pub(crate) const fn pack_all<const N: usize>(words: [&str; N]) -> [u128; N] {
    let mut out = [0u128; N];
    let mut i = 0;
    while i < N {
        out[i] = pack(words[i].as_bytes());
        i += 1;
    }
    out
}

/// The scanner's state for one text.
pub(crate) struct Scanner<'a> {
    b: &'a [u8],
    on: KindSet,
    floor: usize,
    /// Any German recognizer that starts at a capital is on.
    de_german_on: bool,
    min_score: f32,
    pub(crate) findings: Vec<crate::Finding>,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(b: &'a [u8], on: KindSet, min_score: f32) -> Self {
        Scanner {
            b,
            on,
            floor: 0,
            de_german_on: [
                K::DeVatCode,
                K::DeCommercialRegister,
                K::DeKvnr,
                K::DeLicensePlate,
                K::DeIdCard,
                K::DePassport,
                K::DePersonalId,
                K::DeDriverLicense,
            ]
            .iter()
            .any(|&k| on.has(k)),
            min_score,
            findings: Vec::new(),
        }
    }

    fn push(
        &mut self,
        start: usize,
        end: usize,
        kind: K,
        score: f32,
        recognizer: &'static str,
    ) -> usize {
        let score = score.min(1.0);
        if score >= self.min_score {
            self.findings.push(crate::Finding {
                kind: kind.kind(),
                start,
                end,
                score,
                recognizer: std::borrow::Cow::Borrowed(recognizer),
            });
        }
        self.floor = end;
        end
    }

    /// The context words before `start`.
    fn ctx(&self, start: usize) -> Context {
        Context::before(self.b, start)
    }

    /// Push with the context boost for `kind` applied.
    fn push_ctx(&mut self, start: usize, end: usize, kind: K, base: f32) -> usize {
        let ctx = self.ctx(start);
        let score = if ctx.has(kind.context()) {
            base + CONTEXT_BOOST
        } else {
            base
        };
        self.push(start, end, kind, score, kind.recognizer())
    }

    pub(crate) fn run(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        while i < n {
            // Tight skip over bytes that cannot start anything.
            loop {
                // Eight inert bytes per test: fewer branches per byte, and a
                // speed that does not hinge on where the compiler places the
                // byte loop (the same instructions ran 1.5× slower after an
                // unrelated change moved it).
                while let Some(chunk) = b.get(i..i + 8) {
                    if chunk.iter().fold(0, |any, &c| any | CLASS[c as usize]) != 0 {
                        break;
                    }
                    i += 8;
                }
                while i < n && CLASS[b[i] as usize] == 0 {
                    i += 1;
                }
                // A capitalised word (`Hello`) starts nothing unless it is
                // `Bearer` or the `J` of `eyJ`: skip it without dispatching.
                if i + 1 < n
                    && CLASS[b[i] as usize] == C_UPPER
                    && b[i + 1].is_ascii_lowercase()
                    && b[i] != b'B'
                    && b[i] != b'J'
                {
                    i += 2;
                    continue;
                }
                break;
            }
            if i >= n {
                break;
            }
            let next = match CLASS[b[i] as usize] {
                C_DIGIT => {
                    if token_start(b, i) {
                        self.digit(i).unwrap_or_else(|| skip_alnum(b, i))
                    } else {
                        skip_alnum(b, i)
                    }
                }
                C_UPPER => {
                    if b[i] == b'J'
                        && i >= 2
                        && b[i - 2] == b'e'
                        && b[i - 1] == b'y'
                        && i - 2 >= self.floor
                        && token_start(b, i - 2)
                    {
                        self.jwt(i - 2).unwrap_or(i + 1)
                    } else if token_start(b, i) {
                        // Nothing starts inside the rest of an upper-case token.
                        self.upper(i).unwrap_or_else(|| skip_alnum(b, i))
                    } else {
                        skip_alnum(b, i)
                    }
                }
                C_AT => self.at_sign(i).unwrap_or(i + 1),
                C_PLUS_PAREN => {
                    if at(b, i + 1).is_ascii_digit() && token_start(b, i) && self.on.has(K::Phone) {
                        self.phone_at(i).unwrap_or(i + 1)
                    } else {
                        i + 1
                    }
                }
                C_DASH => self.dash(i).unwrap_or(i + 1),
                C_COLON => self.colon(i).unwrap_or(i + 1),
                C_EQ => self.assignment(i, b'=').unwrap_or(i + 1),
                _ => i + 1,
            };
            i = next.max(i + 1);
        }
    }

    // ---------------------------------------------------------------- digits

    fn digit(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        // MAC with `-` or `:` (colon form is handled from the colon too, but
        // a dash MAC has no other trigger).
        if matches!(at(b, s + 2), b'-' | b':')
            && is_hex(at(b, s + 1))
            && let Some(e) = self.mac(s)
        {
            return Some(e);
        }
        if self.on.has(K::FiHetu)
            && let Some(e) = self.hetu(s)
        {
            return Some(e);
        }
        if matches!(at(b, s + 1), b'-' | b'0' | b'1')
            && let Some(e) = self.telematik(s)
        {
            return Some(e);
        }
        let run = Run::parse(b, s)?;
        if (run.nd == 8 || run.nd == 2 && run.groups == 2)
            && let Some(e) = self.de_social_security(s, &run)
        {
            return Some(e);
        }
        // `10`, `22`, `500`: one short group is nothing unless a phone's
        // parenthesised area code follows (`1 (715) 498-4177`).
        let paren_near = matches!(at(b, run.end), b'(' | b')') || at(b, run.end + 1) == b'(';
        // An IPv4 address may be followed by a port or a path (`10.0.0.1:8080`).
        let ends = token_end(b, run.end)
            || (run.groups == 4 && run.all_sep(b'.') && matches!(at(b, run.end), b':' | b'/'));
        if run.groups == 1 && run.nd < 8 && !paren_near {
            // Only US driver's licences (context required) and MBIs are
            // this short.
            if run.nd == 1 && at(b, run.end).is_ascii_uppercase() {
                return self.mbi(s);
            }
            if run.nd >= 2 && at(b, run.end).is_ascii_uppercase() {
                if let Some(e) = self.de_document(s) {
                    return Some(e);
                }
                return self.digit_licence(s, &run);
            }
            if run.nd == 5
                && ends
                && self.on.has(K::DePostalCode)
                && run.value(0) >= 1000
                && self.ctx(s).has(K::DePostalCode.context())
            {
                return Some(self.push(
                    s,
                    run.end,
                    K::DePostalCode,
                    0.3 + CONTEXT_BOOST,
                    K::DePostalCode.recognizer(),
                ));
            }
            if run.nd >= 6
                && ends
                && self.on.has(K::UsDriverLicense)
                && self.ctx(s).has(K::UsDriverLicense.context())
            {
                return Some(self.push(
                    s,
                    run.end,
                    K::UsDriverLicense,
                    0.15 + CONTEXT_BOOST,
                    K::UsDriverLicense.recognizer(),
                ));
            }
            return None;
        }
        // Collect what validates first; read the context only if anything does.
        let mut cands: [(K, f32, usize); 14] = [(K::Phone, 0.0, 0); 14];
        let mut n = 0usize;
        let mut consider = |k: K, base: f32, end: usize, on: KindSet| {
            if on.has(k) && n < cands.len() {
                cands[n] = (k, base, end);
                n += 1;
            }
        };
        let on = self.on;
        if ends {
            classify(&run, b, on, &mut consider);
        } else if run.groups == 1
            && run.nd == 8
            && at(b, run.end).is_ascii_uppercase()
            && !is_alnum(at(b, run.end + 1))
        {
            // Spanish NIF: 8 digits and a letter.
            let mut c = [0u8; 9];
            c[..8].copy_from_slice(&b[s..s + 8]);
            c[8] = b[run.end];
            if ck::es_nif(&c) {
                consider(K::EsNif, 0.6, run.end + 1, on);
            } else {
                return self.de_document(s).or_else(|| self.digit_licence(s, &run));
            }
        } else if at(b, run.end).is_ascii_uppercase() {
            return self.de_document(s).or_else(|| self.digit_licence(s, &run));
        }
        // A checksum-validated card or IBAN-strength match needs no phone check.
        // A phone has at least 8 digits; shorter runs only continue one
        // through parentheses (`1 (715) 498-4177`).
        let may_be_phone = paren_near || ends && run.nd >= 8;
        if may_be_phone
            && on.has(K::Phone)
            && n < cands.len()
            && !cands[..n].iter().any(|c| c.1 >= 0.9)
            && let Some((end, base)) = phone(b, s)
        {
            cands[n] = (K::Phone, base, end);
            n += 1;
        }
        if n == 0 {
            return None;
        }
        let ctx = self.ctx(s);
        let mut best: Option<(f32, usize, K)> = None;
        for &(k, base, end) in &cands[..n] {
            let score = if ctx.has(k.context()) {
                base + CONTEXT_BOOST
            } else {
                base
            };
            // Earlier candidates (validated ids) win ties against later (phone).
            if best.is_none_or(|(bs, _, _)| score > bs) {
                best = Some((score, end, k));
            }
        }
        let (score, end, k) = best?;
        Some(self.push(s, end, k, score, k.recognizer()))
    }

    fn hetu(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if s + 11 > b.len() || !b"+-ABCDEFUVWXY".contains(&b[s + 6]) || !token_end(b, s + 11) {
            return None;
        }
        let c = &b[s..s + 11];
        if !ck::fi_hetu(c) {
            return None;
        }
        Some(self.push_ctx(s, s + 11, K::FiHetu, 0.65))
    }

    fn mac(&mut self, s: usize) -> Option<usize> {
        if !self.on.has(K::MacAddress) {
            return None;
        }
        let b = self.b;
        let sep = at(b, s + 2);
        if sep != b':' && sep != b'-' {
            return None;
        }
        for g in 0..6 {
            let p = s + g * 3;
            if !is_hex(at(b, p)) || !is_hex(at(b, p + 1)) {
                return None;
            }
            if g < 5 && at(b, p + 2) != sep {
                return None;
            }
        }
        let e = s + 17;
        if !token_end(b, e) || at(b, e) == sep && is_hex(at(b, e + 1)) {
            return None;
        }
        Some(self.push_ctx(s, e, K::MacAddress, 0.7))
    }

    // ----------------------------------------------------------- upper case

    fn upper(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let c1 = at(b, s + 1);
        if c1.is_ascii_lowercase() {
            if b[s] == b'B' && b.get(s..s + 7) == Some(b"Bearer ") {
                return self.bearer(s + 7);
            }
            return None;
        }
        let c2 = at(b, s + 2);
        let c3 = at(b, s + 3);
        if at(b, s + 5).is_ascii_digit()
            && self.on.has(K::UkDrivingLicence)
            && s + 16 <= b.len()
            && token_end(b, s + 16)
            && ck::uk_driving_licence(&b[s..s + 16])
        {
            return Some(self.push_ctx(s, s + 16, K::UkDrivingLicence, 0.5));
        }
        if b[s] == b'A' && c1 == b'I' && c2 == b'z' && c3 == b'a' && self.on.has(K::Secret) {
            // Google API key: AIza and 35 characters.
            let e = s + 39;
            if e <= b.len()
                && b[s + 4..e]
                    .iter()
                    .all(|&c| is_alnum(c) || c == b'_' || c == b'-')
                && token_end(b, e)
            {
                return Some(self.push(s, e, K::Secret, 0.95, "google_api_key"));
            }
        }
        let up_or_digit = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
        // German identifiers: a second character that can continue one.
        if (up_or_digit(c1)
            || c1 == b' ' && up_or_digit(c2)
            || c1 == b'-' && c2.is_ascii_uppercase()
            || c1 == 0xC3)
            && self.de_german_on
            && let Some(e) = self.de_upper(s)
        {
            return Some(e);
        }
        // German documents: at least three capitals or digits.
        if up_or_digit(c1)
            && up_or_digit(c2)
            && self.de_german_on
            && let Some(e) = self.de_document(s)
        {
            return Some(e);
        }
        if c1.is_ascii_uppercase() {
            if c2.is_ascii_digit()
                && c3.is_ascii_digit()
                && self.on.has(K::Iban)
                && let Some(e) = self.iban(s)
            {
                return Some(e);
            }
            if (c2.is_ascii_digit() || c2 == b' ' && c3.is_ascii_digit())
                && self.on.has(K::UkNino)
                && let Some(e) = self.nino(s)
            {
                return Some(e);
            }
            if c2.is_ascii_digit()
                && let Some(e) = self.letter_document(s)
            {
                return Some(e);
            }
            if c2.is_ascii_digit()
                && c3.is_ascii_digit()
                && self.on.has(K::UkVehicleRegistration)
                && let Some(e) = self.uk_vehicle(s)
            {
                return Some(e);
            }
            if c2.is_ascii_uppercase() {
                if (c3 == b' ' && matches!(at(b, s + 4), b'1'..=b'9') || matches!(c3, b'1'..=b'9'))
                    && let Some(e) = self.uk_vehicle_old(s)
                {
                    return Some(e);
                }
                if c3.is_ascii_uppercase()
                    && self.on.has(K::Secret)
                    && let Some(e) = self.aws(s)
                {
                    return Some(e);
                }
                if self.on.has(K::ItFiscalCode)
                    && s + 16 <= b.len()
                    && token_end(b, s + 16)
                    && ck::it_fiscal_code(&b[s..s + 16])
                {
                    return Some(self.push_ctx(s, s + 16, K::ItFiscalCode, 0.7));
                }
                if c3.is_ascii_digit()
                    && self.on.has(K::EsPassport)
                    && s + 9 <= b.len()
                    && b[s + 3..s + 9].iter().all(u8::is_ascii_digit)
                    && token_end(b, s + 9)
                {
                    let ctx = self.ctx(s);
                    if ctx.has(K::EsPassport.context()) {
                        return Some(self.push(
                            s,
                            s + 9,
                            K::EsPassport,
                            0.2 + CONTEXT_BOOST,
                            K::EsPassport.recognizer(),
                        ));
                    }
                }
                if self.on.has(K::NzNhi)
                    && s + 7 <= b.len()
                    && token_end(b, s + 7)
                    && ck::nz_nhi(&b[s..s + 7])
                {
                    return Some(self.push_ctx(s, s + 7, K::NzNhi, 0.4));
                }
            }
        }
        if matches!(b[s], b'X' | b'Y' | b'Z') && c1.is_ascii_digit() && self.on.has(K::EsNie) {
            let e = s + 9;
            if e <= b.len() && token_end(b, e) && ck::es_nie(&b[s..e]) {
                return Some(self.push_ctx(s, e, K::EsNie, 0.6));
            }
        }
        if c1.is_ascii_digit() || c2.is_ascii_digit() {
            if let Some(e) = self.postcode(s) {
                return Some(e);
            }
            if c1.is_ascii_digit()
                && let Some(e) = self.letter_document(s)
            {
                return Some(e);
            }
            if c1.is_ascii_digit()
                && let Some(e) = self.uk_vehicle_old(s)
            {
                return Some(e);
            }
            if matches!(c2, b'-' | b':') && is_hex(b[s]) && is_hex(c1) {
                return self.mac(s);
            }
        }
        None
    }

    /// German identifiers that start with capitals: the VAT id (`DE` and
    /// nine digits, MOD 11,10 check digit), the commercial register number
    /// (`HRB 12345`, optionally with its court), the health insurance
    /// number (KVNR: a letter and nine digits, check digit; context needed)
    /// and vehicle plates (`B-AB 1234`, `M AB 123E`, `HHAB12`; context
    /// needed).
    fn de_upper(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let on = self.on;
        let c1 = at(b, s + 1);
        let c2 = at(b, s + 2);
        if b[s] == b'D' && c1 == b'E' && on.has(K::DeVatCode) {
            // DE123456789 or DE 123 456 789.
            let mut d = [0u8; 9];
            let mut i = s + 2;
            let spaced = at(b, i) == b' ';
            let mut n = 0;
            for _ in 0..3 {
                if spaced {
                    if at(b, i) != b' ' {
                        return None;
                    }
                    i += 1;
                }
                for _ in 0..3 {
                    let c = at(b, i);
                    if !c.is_ascii_digit() {
                        return None;
                    }
                    d[n] = c - b'0';
                    n += 1;
                    i += 1;
                }
            }
            if token_end(b, i) && ck::de_vat(&d) {
                return Some(self.push_ctx(s, i, K::DeVatCode, if spaced { 0.65 } else { 0.6 }));
            }
            return None;
        }
        if b[s] == b'H'
            && c1 == b'R'
            && matches!(c2, b'A' | b'B')
            && on.has(K::DeCommercialRegister)
        {
            return self.de_register(s);
        }
        if on.has(K::DeKvnr) && (c1.is_ascii_digit() || c1 == b' ' && c2.is_ascii_digit()) {
            // A letter, then nine digits, optionally as ` 123 456 789`.
            let mut c = [0u8; 10];
            c[0] = b[s];
            let mut i = s + 1;
            let mut n = 1;
            for _ in 0..3 {
                if at(b, i) == b' ' && at(b, i + 1).is_ascii_digit() {
                    i += 1;
                }
                for _ in 0..3 {
                    let x = at(b, i);
                    if !x.is_ascii_digit() {
                        return None;
                    }
                    c[n] = x;
                    n += 1;
                    i += 1;
                }
            }
            if token_end(b, i) && ck::de_kvnr(&c) {
                let ctx = self.ctx(s);
                if ctx.has(K::DeKvnr.context()) {
                    let base = if i - s == 10 { 0.4 } else { 0.3 };
                    return Some(self.push(
                        s,
                        i,
                        K::DeKvnr,
                        base + CONTEXT_BOOST,
                        K::DeKvnr.recognizer(),
                    ));
                }
            }
        }
        self.de_plate(s)
    }

    /// `HRA`/`HRB`, an optional space, 1–7 digits, an optional court letter
    /// (`HRB 123456 B`), then optionally `AG`/`Amtsgericht` and the court's
    /// name (one word, hyphenated parts and German letters allowed).
    fn de_register(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let mut i = s + 3;
        if at(b, i) == b' ' {
            i += 1;
        }
        let ds = i;
        while at(b, i).is_ascii_digit() && i - ds < 8 {
            i += 1;
        }
        if !(1..=7).contains(&(i - ds)) {
            return None;
        }
        if at(b, i) == b' ' && at(b, i + 1).is_ascii_uppercase() && !is_alnum(at(b, i + 2)) {
            i += 2;
        }
        if !token_end(b, i) {
            return None;
        }
        let mut end = i;
        let mut base = 0.5;
        // ` AG München`, `, Amtsgericht Berlin-Charlottenburg`
        let mut j = i;
        if at(b, j) == b',' {
            j += 1;
        }
        if at(b, j) == b' ' {
            j += 1;
            let court = if b[j..].starts_with(b"AG ") {
                Some(j + 3)
            } else if b[j..].starts_with(b"Amtsgericht ") {
                Some(j + 12)
            } else {
                None
            };
            if let Some(w) = court
                && at(b, w).is_ascii_uppercase()
            {
                let mut e = w;
                loop {
                    let c = at(b, e);
                    if c.is_ascii_alphabetic() {
                        e += 1;
                    } else if c == 0xC3 && (0x80..=0xBF).contains(&at(b, e + 1)) {
                        // Latin-1 letters (ä, ö, ü, ß, …) in UTF-8.
                        e += 2;
                    } else if c == b'-' && at(b, e + 1).is_ascii_uppercase() && e - w < 60 {
                        e += 1;
                    } else {
                        break;
                    }
                    if e - w > 64 {
                        break;
                    }
                }
                if e - w >= 2 && !is_alnum(at(b, e)) {
                    end = e;
                    base = 0.6;
                }
            }
        }
        Some(self.push_ctx(s, end, K::DeCommercialRegister, base))
    }

    /// A German plate: district (1–3 letters, `Ä`/`Ö`/`Ü` allowed), a
    /// hyphen, a space or nothing, 1–2 letters, a space or not, 1–4 digits
    /// not starting with 0, an optional `E` (electric) or `H` (historic);
    /// at most eight characters. Always needs a context word.
    fn de_plate(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::DeLicensePlate) {
            return None;
        }
        let letters = |mut i: usize, max: usize| {
            let mut n = 0;
            while n < max {
                let c = at(b, i);
                if c.is_ascii_uppercase() {
                    i += 1;
                } else if c == 0xC3 && matches!(at(b, i + 1), 0x84 | 0x96 | 0x9C) {
                    i += 2;
                } else {
                    break;
                }
                n += 1;
            }
            (i, n)
        };
        let (i, nd) = letters(s, 3);
        if nd == 0 {
            return None;
        }
        let sep = at(b, i);
        let (j, nl, base) = match sep {
            b'-' | b' ' => {
                let (j, nl) = letters(i + 1, 2);
                if nl == 0 || at(b, j).is_ascii_uppercase() {
                    return None;
                }
                let (j, space) = if at(b, j) == b' ' {
                    (j + 1, true)
                } else {
                    (j, false)
                };
                if sep == b' ' && !space {
                    return None;
                }
                (j, nl, if sep == b'-' { 0.45 } else { 0.35 })
            }
            // Continuous: 2–5 letters in all, then the digits.
            _ => {
                let (j, n) = letters(s, 5);
                if !(2..=5).contains(&n) || !at(b, j).is_ascii_digit() {
                    return None;
                }
                (j, n - nd, 0.25)
            }
        };
        if !matches!(at(b, j), b'1'..=b'9') {
            return None;
        }
        let mut e = j;
        while at(b, e).is_ascii_digit() && e - j < 5 {
            e += 1;
        }
        let ndig = e - j;
        if ndig > 4 {
            return None;
        }
        let mut total = nd + nl + ndig;
        if matches!(at(b, e), b'E' | b'H') {
            e += 1;
            total += 1;
        }
        if total > 8 || !token_end(b, e) {
            return None;
        }
        if !self.ctx(s).has(K::DeLicensePlate.context()) {
            return None;
        }
        Some(self.push(
            s,
            e,
            K::DeLicensePlate,
            base + CONTEXT_BOOST,
            K::DeLicensePlate.recognizer(),
        ))
    }

    /// A Telematik-ID: `1-`, `10-`, `11-`, `9-` or `5-2-`, then 5–125 of
    /// `A-Z0-9.` with at least one digit; context needed (no checksum).
    fn telematik(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::DeTelematikId) {
            return None;
        }
        let body = match (b[s], at(b, s + 1), at(b, s + 2), at(b, s + 3)) {
            (b'5', b'-', b'2', b'-') => s + 4,
            (b'1' | b'9', b'-', _, _) => s + 2,
            (b'1', b'0' | b'1', b'-', _) => s + 3,
            _ => return None,
        };
        let mut e = body;
        while (at(b, e).is_ascii_uppercase() || at(b, e).is_ascii_digit() || at(b, e) == b'.')
            && e - body <= 125
        {
            e += 1;
        }
        while e > body && b[e - 1] == b'.' {
            e -= 1;
        }
        if !(5..=125).contains(&(e - body))
            || !b[body..e].iter().any(u8::is_ascii_digit)
            || !token_end(b, e)
            || at(b, e) == b'-'
        {
            return None;
        }
        if !self.ctx(s).has(K::DeTelematikId.context()) {
            return None;
        }
        let base = if b[s] == b'5' { 0.3 } else { 0.4 };
        Some(self.push(
            s,
            e,
            K::DeTelematikId,
            base + CONTEXT_BOOST,
            K::DeTelematikId.recognizer(),
        ))
    }

    /// A German pension insurance number: `15070649C103`, or as printed on
    /// the card, `15 070649 C 103`; check digit and birth date validated.
    fn de_social_security(&mut self, s: usize, run: &Run) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::DeSocialSecurity) {
            return None;
        }
        let spaced = run.groups == 2 && run.shape() == [2, 6] && run.all_sep(b' ');
        if !(spaced || run.groups == 1 && run.nd == 8) {
            return None;
        }
        let mut c = [0u8; 12];
        for (x, &v) in c.iter_mut().zip(run.digits()) {
            *x = v + b'0';
        }
        let mut i = run.end;
        if spaced {
            if at(b, i) != b' ' {
                return None;
            }
            i += 1;
        }
        c[8] = at(b, i);
        i += 1;
        if spaced {
            if at(b, i) != b' ' {
                return None;
            }
            i += 1;
        }
        for k in 0..3 {
            c[9 + k] = at(b, i + k);
        }
        let e = i + 3;
        if !token_end(b, e) || !ck::de_social_security(&c) {
            return None;
        }
        Some(self.push_ctx(s, e, K::DeSocialSecurity, 0.6))
    }

    /// German documents (Presidio's `country_specific/germany`): identity
    /// card and passport serials (nine characters of the ICAO alphabet,
    /// the passport's ninth an ICAO 7-3-1 check digit), the identity card
    /// number with its check digit (ten characters, `DE_PERSONAL_ID`) and
    /// driving licences (8–15 letters and digits, both present, letter- or
    /// digit-led, also printed in space-separated groups such as
    /// `B072 RRE2I 55`). None has a checksum strong enough alone, so all
    /// need a context word.
    fn de_document(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let on = self.on;
        if !(on.has(K::DeIdCard)
            || on.has(K::DePassport)
            || on.has(K::DeDriverLicense)
            || on.has(K::DePersonalId))
        {
            return None;
        }
        let group = |from: usize| {
            let mut i = from;
            while i < b.len()
                && i - from < 16
                && (b[i].is_ascii_digit() || b[i].is_ascii_uppercase())
            {
                i += 1;
            }
            i - from
        };
        let n = group(s);
        // Most tokens stop here: too long, or short and not followed by
        // another group.
        if n > 15 || n < 8 && (n < 3 || at(b, s + n) != b' ') {
            return None;
        }
        // Space-separated groups (licences only), at most 15 characters.
        let mut end = s + n;
        let mut total = n;
        let mut groups = 1;
        let spaced_ok = n >= 3 && b[s..s + n].iter().any(u8::is_ascii_digit);
        while n < 8 && spaced_ok && at(b, end) == b' ' && groups < 4 {
            let g = group(end + 1);
            if g < 2 || total + g > 15 {
                break;
            }
            end += 1 + g;
            total += g;
            groups += 1;
        }
        if !(8..=15).contains(&total) {
            return None;
        }
        let single = token_end(b, s + n) && (8..=15).contains(&n);
        if !single && !token_end(b, end) {
            return None;
        }
        let tok = &b[s..s + n];
        // All have a digit and a letter; all-capital words and plain
        // numbers stop here, before the context is read.
        let span = &b[s..end];
        if !span.iter().any(u8::is_ascii_digit) || !span.iter().any(u8::is_ascii_uppercase) {
            return None;
        }
        let ctx = self.ctx(s);
        let push = |this: &mut Self, k: K, base: f32, e: usize| {
            Some(this.push(s, e, k, base + CONTEXT_BOOST, k.recognizer()))
        };
        if single {
            if n == 9
                && on.has(K::DePassport)
                && ck::de_passport(tok)
                && ctx.has(K::DePassport.context())
            {
                return push(self, K::DePassport, 0.4, s + n);
            }
            if n == 9
                && on.has(K::DeIdCard)
                && ck::de_id_card(tok)
                && ctx.has(K::DeIdCard.context())
            {
                return push(self, K::DeIdCard, 0.2, s + n);
            }
            if n == 10
                && on.has(K::DePersonalId)
                && ck::de_personal_id(tok)
                && ctx.has(K::DePersonalId.context())
            {
                return push(self, K::DePersonalId, 0.3, s + n);
            }
        }
        if on.has(K::DeDriverLicense) && ctx.has(K::DeDriverLicense.context()) {
            // The longest form: groups when they follow, else the token.
            let e = if groups > 1 && token_end(b, end) {
                end
            } else {
                s + n
            };
            if (8..=15).contains(&(e - s - (groups - 1) * usize::from(e == end))) {
                return push(self, K::DeDriverLicense, 0.2, e);
            }
        }
        None
    }

    /// Documents that start with letters and have no checksum (or a weak
    /// one): US passport and driver's licence, UK and Italian passports,
    /// Italian identity card and driving licence, US DEA numbers
    /// (`MEDICAL_LICENSE`). All but a checksum-valid DEA number need a
    /// context word, as in Presidio; the context also decides between kinds
    /// whose shapes coincide (two letters and seven digits is a UK or an
    /// Italian passport, a DEA number or a US licence).
    fn letter_document(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let run = |from: usize, f: fn(&u8) -> bool, max: usize| {
            b.get(from..)
                .unwrap_or(&[])
                .iter()
                .take(max + 1)
                .take_while(|c| f(c))
                .count()
        };
        let l = run(s, u8::is_ascii_uppercase, 2);
        if !(1..=2).contains(&l) {
            return None;
        }
        let nd = run(s + l, u8::is_ascii_digit, 14);
        let t = run(s + l + nd, u8::is_ascii_uppercase, 2);
        // Italian licence, second form: U1, seven of a restricted
        // alphabet, a letter.
        let it_u1 = b[s] == b'U'
            && at(b, s + 1) == b'1'
            && s + 10 <= b.len()
            && b[s + 2..s + 9]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() && !b"AIOQV".contains(c))
            && at(b, s + 9).is_ascii_uppercase()
            && token_end(b, s + 10);
        let end = if it_u1 { s + 10 } else { s + l + nd + t };
        if !it_u1 && (!(3..=14).contains(&nd) || t > 2 || !token_end(b, end)) {
            return None;
        }
        let ctx = self.ctx(s);
        let on = self.on;
        let has = |k: K| on.has(k) && ctx.has(k.context());
        let passport = ctx.has(words!["passport", "passaporto", "passeport", "reisepass"]);
        let italian = ctx.has(words![
            "passaporto",
            "italian",
            "italiano",
            "italiana",
            "italia"
        ]);
        // `license key AB1234`, `license server LS12345`: software.
        let software = ctx.soft_licence();
        let hit = |k: K| Some((k, 0.2 + CONTEXT_BOOST));
        let (kind, score) = match (l, nd, t) {
            _ if it_u1 => hit(K::ItDriverLicense).filter(|_| has(K::ItDriverLicense))?,
            (2, 7, 1) if has(K::ItDriverLicense) => hit(K::ItDriverLicense)?,
            (2, 5, 2) if has(K::ItIdentityCard) => hit(K::ItIdentityCard)?,
            (2, 7, 0) => {
                let dea = on.has(K::MedicalLicense) && ck::us_dea(&b[s..end]);
                if dea && ctx.has(K::MedicalLicense.context()) {
                    (K::MedicalLicense, 0.4 + CONTEXT_BOOST)
                } else if passport && on.has(K::ItPassport) && (italian || !on.has(K::UkPassport)) {
                    (K::ItPassport, 0.2 + CONTEXT_BOOST)
                } else if passport && on.has(K::UkPassport) {
                    (K::UkPassport, 0.2 + CONTEXT_BOOST)
                } else if has(K::ItIdentityCard) {
                    (K::ItIdentityCard, 0.2 + CONTEXT_BOOST)
                } else if has(K::UsDriverLicense) && !software {
                    (K::UsDriverLicense, 0.2 + CONTEXT_BOOST)
                } else if dea {
                    (K::MedicalLicense, 0.4)
                } else {
                    return None;
                }
            }
            (1, 8, 0) if passport && on.has(K::UsPassport) => hit(K::UsPassport)?,
            (1, 8, 0) if on.has(K::MedicalLicense) && ck::us_dea(&b[s..end]) => (
                K::MedicalLicense,
                if ctx.has(K::MedicalLicense.context()) {
                    0.4 + CONTEXT_BOOST
                } else {
                    0.4
                },
            ),
            // Presidio's state shapes: a letter and 3–14 digits, two letters
            // and 3–7 digits, two letters, six digits and a letter, a letter,
            // six digits and `R`.
            (1, 3..=14, 0) | (2, 3..=7, 0) | (2, 6, 1) | (1, 6, 1)
                if has(K::UsDriverLicense) && !software =>
            {
                hit(K::UsDriverLicense)?
            }
            _ => return None,
        };
        Some(self.push(s, end, kind, score, kind.recognizer()))
    }

    /// A UK vehicle registration in the current (2001+) format, `AB51 ABC`:
    /// two area letters, an age identifier (02–29 or 51–79), three letters;
    /// only with a context word (`car`, `reg`, `vehicle`, …).
    fn uk_vehicle(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        const AREA: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXY";
        const RANDOM: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXYZ";
        let age = u32::from(at(b, s + 2) - b'0') * 10 + u32::from(at(b, s + 3) - b'0');
        let o = usize::from(matches!(at(b, s + 4), b' ' | b'-'));
        let end = s + 7 + o;
        let ok = AREA.contains(&b[s])
            && AREA.contains(&at(b, s + 1))
            && (matches!(age, 2..=29 | 51..=79))
            && (0..3).all(|k| RANDOM.contains(&at(b, s + 4 + o + k)))
            && token_end(b, end);
        if !ok {
            return None;
        }
        self.uk_plate_in_context(s, end)
    }

    /// A UK registration's shape matched at `s..end`: a finding only with a
    /// context word, since plates look like many other codes.
    fn uk_plate_in_context(&mut self, s: usize, end: usize) -> Option<usize> {
        let kind = K::UkVehicleRegistration;
        if !self.ctx(s).has(kind.context()) {
            return None;
        }
        Some(self.push(s, end, kind, 0.3 + CONTEXT_BOOST, kind.recognizer()))
    }

    /// UK registrations of the older formats, only with a context word:
    /// prefix (1983–2001, `A123 BCD`: age letter, 1–3 digits, three
    /// letters) and suffix (1963–1983, `ABC 123D`: three letters, 1–3
    /// digits, age letter). Age letters exclude I, O, Q, U and Z; the
    /// three-letter groups exclude I, Q and Z.
    fn uk_vehicle_old(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::UkVehicleRegistration) {
            return None;
        }
        const AGE: &[u8] = b"ABCDEFGHJKLMNPRSTVWXY";
        let group = |i: usize| {
            (0..3).all(|k| {
                let c = at(b, i + k);
                c.is_ascii_uppercase() && !matches!(c, b'I' | b'Q' | b'Z')
            })
        };
        let digits = |i: usize| {
            let n = b[i.min(b.len())..]
                .iter()
                .take(4)
                .take_while(|c| c.is_ascii_digit())
                .count();
            (matches!(n, 1..=3) && at(b, i) != b'0').then_some(n)
        };
        let end = if at(b, s + 1).is_ascii_digit() {
            // Prefix: A123 BCD
            if !AGE.contains(&b[s]) {
                return None;
            }
            let n = digits(s + 1)?;
            let mut i = s + 1 + n;
            if at(b, i) == b' ' {
                i += 1;
            }
            if !group(i) {
                return None;
            }
            i + 3
        } else {
            // Suffix: ABC 123D
            if !group(s) {
                return None;
            }
            let mut i = s + 3;
            if at(b, i) == b' ' {
                i += 1;
            }
            let n = digits(i)?;
            i += n;
            if !AGE.contains(&at(b, i)) {
                return None;
            }
            i + 1
        };
        if !token_end(b, end) {
            return None;
        }
        self.uk_plate_in_context(s, end)
    }

    /// A US Medicare Beneficiary Identifier, plain (`1EG4TE5MK73`, context
    /// needed) or in its display form `1EG4-TE5-MK73`.
    fn mbi(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::UsMbi) {
            return None;
        }
        let dashed = at(b, s + 4) == b'-' && at(b, s + 8) == b'-';
        let end = s + if dashed { 13 } else { 11 };
        if end > b.len() || !token_end(b, end) {
            return None;
        }
        let mut c = [0u8; 11];
        if dashed {
            c[..4].copy_from_slice(&b[s..s + 4]);
            c[4..7].copy_from_slice(&b[s + 5..s + 8]);
            c[7..].copy_from_slice(&b[s + 9..s + 13]);
        } else {
            c.copy_from_slice(&b[s..end]);
        }
        if !ck::us_mbi(&c) {
            return None;
        }
        Some(self.push_ctx(s, end, K::UsMbi, if dashed { 0.5 } else { 0.3 }))
    }

    /// US driver's licence shapes that start with digits and end or
    /// continue with letters (`123456789A`, `12345678AB`, `12ABC12345`,
    /// `123AB1234`), only with context.
    fn digit_licence(&mut self, s: usize, run: &Run) -> Option<usize> {
        let b = self.b;
        if run.groups != 1 || !self.on.has(K::UsDriverLicense) {
            return None;
        }
        let letters = b[run.end..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        let tail = b[run.end + letters..]
            .iter()
            .take(7)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let ok = matches!(
            (run.nd, letters, tail),
            (7..=9, 1, 0) | (8, 2, 0) | (2, 3, 5..=6) | (3, 2, 4)
        );
        let end = run.end + letters + tail;
        if !ok || !token_end(b, end) {
            return None;
        }
        let ctx = self.ctx(s);
        if !ctx.has(K::UsDriverLicense.context()) || ctx.soft_licence() {
            return None;
        }
        Some(self.push(
            s,
            end,
            K::UsDriverLicense,
            0.2 + CONTEXT_BOOST,
            K::UsDriverLicense.recognizer(),
        ))
    }

    fn iban(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let len = ck::iban_length([b[s], b[s + 1]])?;
        let mut chars = [0u8; 34];
        let mut n = 0;
        let mut i = s;
        let mut group = 0;
        while n < len {
            let c = at(b, i);
            if is_alnum(c) {
                chars[n] = c.to_ascii_uppercase();
                n += 1;
                group += 1;
                i += 1;
            } else if c == b' ' && group == 4 && is_alnum(at(b, i + 1)) {
                group = 0;
                i += 1;
            } else {
                return None;
            }
        }
        if !token_end(b, i) || !ck::iban(&chars[..n]) {
            return None;
        }
        Some(self.push_ctx(s, i, K::Iban, 0.9))
    }

    fn nino(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !ck::uk_nino_prefix(b[s], b[s + 1]) {
            return None;
        }
        let mut i = s + 2;
        let spaced = at(b, i) == b' ';
        for _ in 0..3 {
            if spaced {
                if at(b, i) != b' ' {
                    return None;
                }
                i += 1;
            }
            if !at(b, i).is_ascii_digit() || !at(b, i + 1).is_ascii_digit() {
                return None;
            }
            i += 2;
        }
        if spaced && at(b, i) == b' '
            || !spaced && at(b, i) == b' ' && matches!(at(b, i + 1), b'A'..=b'D')
        {
            i += 1;
        }
        if !matches!(at(b, i), b'A'..=b'D') || !token_end(b, i + 1) {
            return None;
        }
        Some(self.push_ctx(s, i + 1, K::UkNino, 0.6))
    }

    fn aws(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        const PREFIXES: [&[u8]; 6] = [b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"ANPA"];
        let p = b.get(s..s + 4)?;
        if !PREFIXES.contains(&p) {
            return None;
        }
        let e = s + 20;
        let body = b.get(s + 4..e)?;
        if !body
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            || !token_end(b, e)
        {
            return None;
        }
        Some(self.push(s, e, K::Secret, 0.95, "aws_access_key"))
    }

    fn bearer(&mut self, s: usize) -> Option<usize> {
        if !self.on.has(K::Secret) {
            return None;
        }
        let b = self.b;
        let mut e = s;
        while e < b.len()
            && (is_alnum(b[e]) || matches!(b[e], b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
            && e - s < 4096
        {
            e += 1;
        }
        while e < b.len() && b[e] == b'=' {
            e += 1;
        }
        while e > s && matches!(b[e - 1], b'.') {
            e -= 1;
        }
        if e - s < 16 {
            return None;
        }
        Some(self.push(s, e, K::Secret, 0.9, "bearer_token"))
    }

    fn postcode(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if self.on.has(K::CaPostalCode) {
            // A1A 1A1 with the letters Canada Post uses.
            const FIRST: &[u8] = b"ABCEGHJKLMNPRSTVXY";
            const OTHER: &[u8] = b"ABCEGHJKLMNPRSTVWXYZ";
            let spaced = at(b, s + 3) == b' ';
            let o = usize::from(spaced);
            if FIRST.contains(&b[s])
                && at(b, s + 1).is_ascii_digit()
                && OTHER.contains(&at(b, s + 2))
                && at(b, s + 3 + o).is_ascii_digit()
                && OTHER.contains(&at(b, s + 4 + o))
                && at(b, s + 5 + o).is_ascii_digit()
                && token_end(b, s + 6 + o)
            {
                return Some(self.push_ctx(
                    s,
                    s + 6 + o,
                    K::CaPostalCode,
                    if spaced { 0.5 } else { 0.3 },
                ));
            }
        }
        if self.on.has(K::UkPostcode) {
            // Outward code: A9, A99, AA9, AA99, A9A, AA9A; inward: 9AA.
            let mut i = s;
            i += 1;
            if at(b, i).is_ascii_uppercase() {
                i += 1;
            }
            if !at(b, i).is_ascii_digit() {
                return None;
            }
            i += 1;
            if at(b, i).is_ascii_digit()
                || at(b, i).is_ascii_uppercase()
                    && at(b, i + 1) != b' '
                    && !at(b, i + 1).is_ascii_digit()
            {
                // third char of outward code only if an inward code follows
            }
            let try_inward = |j: usize| -> Option<(usize, bool)> {
                let spaced = at(b, j) == b' ';
                let k = j + usize::from(spaced);
                if at(b, k).is_ascii_digit()
                    && at(b, k + 1).is_ascii_uppercase()
                    && at(b, k + 2).is_ascii_uppercase()
                    && !matches!(at(b, k + 1), b'C' | b'I' | b'K' | b'M' | b'O' | b'V')
                    && !matches!(at(b, k + 2), b'C' | b'I' | b'K' | b'M' | b'O' | b'V')
                    && token_end(b, k + 3)
                {
                    Some((k + 3, spaced))
                } else {
                    None
                }
            };
            let mut found = try_inward(i);
            if found.is_none() && (at(b, i).is_ascii_digit() || at(b, i).is_ascii_uppercase()) {
                found = try_inward(i + 1);
            }
            if let Some((e, spaced)) = found {
                if spaced {
                    return Some(self.push_ctx(
                        s,
                        e,
                        K::UkPostcode,
                        if spaced { 0.5 } else { 0.3 },
                    ));
                }
                return Some(self.push_ctx(s, e, K::UkPostcode, 0.3));
            }
        }
        None
    }

    // ---------------------------------------------------------- punctuation

    fn jwt(&mut self, s: usize) -> Option<usize> {
        if !self.on.has(K::Secret) {
            return None;
        }
        let b = self.b;
        let seg = |mut i: usize| {
            let st = i;
            while i < b.len() && (is_alnum(b[i]) || b[i] == b'-' || b[i] == b'_') && i - st < 8192 {
                i += 1;
            }
            (i, i - st)
        };
        let (e1, l1) = seg(s);
        if l1 < 10 || at(b, e1) != b'.' {
            return None;
        }
        let (e2, l2) = seg(e1 + 1);
        if l2 < 4 || at(b, e2) != b'.' {
            return None;
        }
        let (e3, l3) = seg(e2 + 1);
        let e = if l3 == 0 { e2 + 1 } else { e3 };
        Some(self.push(s, e, K::Secret, 0.95, "jwt"))
    }

    fn dash(&mut self, i: usize) -> Option<usize> {
        if !self.on.has(K::Secret) {
            return None;
        }
        let b = self.b;
        if b[i] == b'-' && b.get(i..i + 11) == Some(b"-----BEGIN ") {
            return self.pem(i);
        }
        // Find the word this separator ends (bounded look-back).
        let mut ws = i;
        while ws > self.floor && i - ws < 12 && is_alnum(b[ws - 1]) {
            ws -= 1;
        }
        if ws == i || !token_start(b, ws) {
            // `github_pat_` has its first `_` after 6 letters; others start
            // at a token start; nothing to do.
            return None;
        }
        const PREFIXES: [(&[u8], &str, usize); 16] = [
            (b"ghp_", "github_token", 36),
            (b"gho_", "github_token", 36),
            (b"ghu_", "github_token", 36),
            (b"ghs_", "github_token", 36),
            (b"ghr_", "github_token", 36),
            (b"github_pat_", "github_token", 40),
            (b"glpat-", "gitlab_token", 20),
            (b"xoxb-", "slack_token", 20),
            (b"xoxp-", "slack_token", 20),
            (b"xoxa-", "slack_token", 20),
            (b"xoxr-", "slack_token", 20),
            (b"xoxs-", "slack_token", 20),
            (b"sk_live_", "stripe_key", 20),
            (b"rk_live_", "stripe_key", 20),
            (b"sk-", "openai_style_key", 32),
            (b"npm_", "npm_token", 36),
        ];
        // Cheap filter: the separator sits 2–10 bytes into a token starting
        // with one of the prefixes' first letters.
        if !(2..=10).contains(&(i - ws))
            || !matches!(b[ws], b'g' | b'x' | b's' | b'r' | b'p' | b'n')
        {
            return None;
        }
        let rest = &b[ws..];
        for (p, name, min) in PREFIXES {
            if rest.starts_with(p) {
                let mut e = ws + p.len();
                while e < b.len()
                    && (is_alnum(b[e]) || b[e] == b'_' || b[e] == b'-')
                    && e - ws < 512
                {
                    e += 1;
                }
                while e > ws && matches!(b[e - 1], b'-' | b'_') {
                    e -= 1;
                }
                if e - ws < min {
                    return None;
                }
                return Some(self.push(ws, e, K::Secret, 0.95, name));
            }
        }
        if rest.starts_with(b"sk_test_") || rest.starts_with(b"pk_live_") {
            let mut e = ws + 8;
            while e < b.len() && is_alnum(b[e]) && e - ws < 512 {
                e += 1;
            }
            if e - ws >= 20 {
                return Some(self.push(ws, e, K::Secret, 0.8, "stripe_key"));
            }
        }
        None
    }

    /// A private-key block: the `-----BEGIN … PRIVATE KEY-----` header,
    /// then the body (see [`pem_body`]) up to and including the
    /// `-----END …-----` line. A block without its end line (a truncated
    /// paste, or the end of the text) is still a secret: it runs to the
    /// last body word (`private_key_block_unterminated`); a header
    /// followed by no body word is one only at the end of the text.
    fn pem(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let lim = b.len().min(s + 80);
        let h = memchr::memmem::find(&b[s..lim], b"PRIVATE KEY-----")?;
        let body = s + h + 16;
        if memchr::memchr(b'\n', &b[s..body]).is_some() {
            return None;
        }
        let (end, state) = pem_body(b, body);
        match state {
            Pem::Closed => Some(self.push(s, end, K::Secret, 1.0, "private_key_block")),
            Pem::Open | Pem::Stopped { words: 1.. } => Some(self.push(
                s,
                if state == Pem::Open { b.len() } else { end },
                K::Secret,
                0.95,
                "private_key_block_unterminated",
            )),
            Pem::Stopped { .. } => None,
        }
    }

    fn colon(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        // IPv6 / MAC: look back over at most 4 hex digits.
        let mut ws = i;
        while ws > self.floor && i - ws < 4 && is_hex(b[ws - 1]) {
            ws -= 1;
        }
        if (ws < i || at(b, i + 1) == b':') && token_start(b, ws) && ws >= self.floor {
            if i - ws == 2
                && let Some(e) = self.mac(ws)
            {
                return Some(e);
            }
            if let Some(e) = self.ipv6(ws) {
                return Some(e);
            }
        }
        self.assignment(i, b':')
    }

    fn ipv6(&mut self, s: usize) -> Option<usize> {
        if !self.on.has(K::IpAddress) {
            return None;
        }
        let b = self.b;
        let mut i = s;
        let mut groups = 0;
        let mut double = false;
        let mut last_group_start = s;
        loop {
            if at(b, i) == b':' && at(b, i + 1) == b':' {
                if double {
                    return None;
                }
                double = true;
                i += 2;
                if !is_hex(at(b, i)) {
                    break;
                }
                continue;
            }
            let st = i;
            while is_hex(at(b, i)) && i - st < 5 {
                i += 1;
            }
            let l = i - st;
            if l == 0 || l > 4 {
                if l == 0 && groups > 0 && !double {
                    return None;
                }
                if l > 4 {
                    return None;
                }
                break;
            }
            groups += 1;
            last_group_start = st;
            if at(b, i) == b':' && at(b, i + 1) != b':' && is_hex(at(b, i + 1)) {
                i += 1;
                continue;
            }
            if at(b, i) == b':' && at(b, i + 1) == b':' {
                continue;
            }
            break;
        }
        // Embedded IPv4 tail (`::ffff:10.0.0.1`).
        let mut e = i;
        if at(b, i) == b'.'
            && let Some(run) = Run::parse(b, last_group_start)
            && run.groups == 4
            && run.all_sep(b'.')
        {
            e = run.end;
            groups += 1;
        }
        if groups > 8 || (!double && groups != 8) || groups == 0 || !token_end(b, e) {
            return None;
        }
        let text = std::str::from_utf8(&b[s..e]).ok()?;
        text.parse::<std::net::Ipv6Addr>().ok()?;
        Some(self.push_ctx(s, e, K::IpAddress, 0.75))
    }

    fn assignment(&mut self, i: usize, op: u8) -> Option<usize> {
        if !self.on.has(K::Secret) {
            return None;
        }
        let b = self.b;
        let mut j = i;
        let mut sp = 0;
        while j > self.floor && b[j - 1] == b' ' && sp < 2 {
            j -= 1;
            sp += 1;
        }
        if j > self.floor && matches!(b[j - 1], b'"' | b'\'') {
            j -= 1;
        }
        let we = j;
        while j > self.floor
            && we - j < 40
            && (is_alnum(b[j - 1]) || matches!(b[j - 1], b'_' | b'-' | b'.'))
        {
            j -= 1;
        }
        if j > self.floor && (is_alnum(b[j - 1]) || we - j >= 40)
            || we == j
            || we - j < 3 && op == b':'
        {
            return None;
        }
        // Every key ends in one of these letters; times and ids do not.
        if !matches!(
            b[we - 1] | 0x20,
            b'd' | b's' | b'e' | b't' | b'y' | b'n' | b'g'
        ) {
            return None;
        }
        // The word, or its part after a `_`, `-` or `.` (`db_password`),
        // packed and compared as integers.
        let word = &b[j..we];
        let is_key = |w: &[u8]| {
            let p = pack(w);
            p != 0 && (ASSIGN_KEYS.contains(p) || op == b'=' && QUERY_KEYS.contains(p))
        };
        let mut key_hit = is_key(word);
        let mut seps = 0;
        let mut k = word.len();
        while !key_hit && k > 1 && seps < 3 {
            k -= 1;
            if matches!(word[k - 1], b'_' | b'-' | b'.') {
                seps += 1;
                key_hit = pack(&word[k..]) != 0 && ASSIGN_KEYS.contains(pack(&word[k..]));
            }
        }
        let w = word;
        if !key_hit {
            return None;
        }
        // The value.
        let mut v = i + 1;
        let mut sp = 0;
        while at(b, v) == b' ' && sp < 2 {
            v += 1;
            sp += 1;
        }
        let quote = at(b, v);
        let quoted = matches!(quote, b'"' | b'\'');
        if quoted {
            v += 1;
        }
        if w.len() >= 13 && w[w.len() - 13..].eq_ignore_ascii_case(b"authorization") {
            for scheme in [
                &b"Bearer "[..],
                b"bearer ",
                b"Basic ",
                b"basic ",
                b"Token ",
                b"token ",
            ] {
                if b[v..].starts_with(scheme) {
                    v += scheme.len();
                    break;
                }
            }
        }
        let mut e = v;
        while e < b.len() && e - v < 1024 {
            let c = b[e];
            let stop = if quoted {
                c == quote || c == b'\n'
            } else {
                c.is_ascii_whitespace()
                    || matches!(c, b'"' | b'\'' | b'<' | b'>')
                    || (op == b'=' && matches!(c, b'&' | b'#' | b','))
            };
            if stop {
                break;
            }
            e += 1;
        }
        if !quoted {
            while e > v && matches!(b[e - 1], b'.' | b',' | b';' | b')' | b']' | b'}') {
                e -= 1;
            }
        }
        // Values must look like secrets, not prose: at least 4 bytes.
        if e - v < 4 || std::str::from_utf8(&b[v..e]).is_err() {
            return None;
        }
        Some(self.push(v, e, K::Secret, 0.85, "secret_assignment"))
    }

    fn at_sign(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        // Local part, looking back (bounded, never before the last finding).
        let mut ls = i;
        while ls > self.floor
            && i - ls < 64
            && (is_alnum(b[ls - 1])
                || matches!(b[ls - 1], b'.' | b'_' | b'%' | b'+' | b'-' | b'\''))
        {
            ls -= 1;
        }
        while ls < i && matches!(b[ls], b'.' | b'-' | b'+' | b'\'') {
            ls += 1;
        }
        if ls == i || b[i - 1] == b'.' {
            return None;
        }
        // URL credentials: scheme://user:pass@host
        if ls > self.floor && b[ls - 1] == b':' && self.on.has(K::Secret) {
            let mut us = ls - 1;
            while us > self.floor
                && ls - us < 128
                && (is_alnum(b[us - 1]) || matches!(b[us - 1], b'.' | b'_' | b'%' | b'-' | b'~'))
            {
                us -= 1;
            }
            if us >= 3 && &b[us - 3..us] == b"://" {
                return Some(self.push(us, i, K::Secret, 0.95, "url_credentials"));
            }
        }
        if !self.on.has(K::Email) {
            return None;
        }
        // The look-back stopped at its 64-byte bound inside a longer local part.
        if ls > 0 && is_alnum(b[ls - 1]) && ls + 64 == i {
            return None;
        }
        // Domain: labels of [A-Za-z0-9-], dot separated, TLD of letters.
        let mut e = i + 1;
        let mut labels = 0;
        let mut last_label_alpha = false;
        let mut end = 0;
        loop {
            let st = e;
            while e < b.len() && (is_alnum(b[e]) || b[e] == b'-') && e - st < 63 {
                e += 1;
            }
            if e == st || b[st] == b'-' || b[e - 1] == b'-' {
                break;
            }
            labels += 1;
            last_label_alpha = e - st >= 2 && b[st..e].iter().all(u8::is_ascii_alphabetic);
            if labels >= 2 && last_label_alpha {
                end = e;
            }
            if at(b, e) == b'.' && is_alnum(at(b, e + 1)) && e - i < 255 {
                e += 1;
            } else {
                break;
            }
        }
        if end == 0 || is_alnum(at(b, end)) || at(b, end) == b'@' {
            return None;
        }
        let _ = last_label_alpha;
        Some(self.push(ls, end, K::Email, 0.9, K::Email.recognizer()))
    }
}

/// How a private-key body ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pem {
    /// At its `-----END …-----` line.
    Closed,
    /// At the end of the data, still inside (a stream must wait for more).
    Open,
    /// At something that is no key material, after this many body words
    /// of 16 or more characters.
    Stopped { words: usize },
}

/// Walks a private-key body from `i`, line by line (a line ends at a
/// newline or at the `\n` escape of a key pasted into JSON): each line is
/// empty, a PEM header (`Proc-Type: …`, `DEK-Info: …`), or base64 words
/// (`A-Za-z0-9+/=`) of which only the last may be shorter than 16
/// characters; the walk ends at the `-----END …-----` line. A line of prose
/// (two words, the first short) ends it. Returns the end (after the end
/// line if closed, else after the last key material) and how it ended.
/// Linear: every byte is read once.
pub(crate) fn pem_body(b: &[u8], mut i: usize) -> (usize, Pem) {
    let len = b.len();
    let mut last = i;
    let mut words = 0usize;
    // End of a short word that is key material only if its line ends there.
    let mut pending: Option<usize> = None;
    let b64 = |c: u8| is_alnum(c) || matches!(c, b'+' | b'/' | b'=');
    loop {
        while i < len && matches!(b[i], b' ' | b'\t' | b'\r') {
            i += 1;
        }
        if i >= len {
            return (len, Pem::Open);
        }
        let newline = match b[i] {
            b'\n' => 1,
            b'\\' if matches!(at(b, i + 1), b'n' | b'r') => 2,
            b'\\' if i + 1 == len => return (len, Pem::Open),
            _ => 0,
        };
        if newline > 0 {
            if let Some(p) = pending.take() {
                last = p;
            }
            i += newline;
            continue;
        }
        if b[i] == b'-' {
            if len - i < 9 && b"-----END "[..len - i] == b[i..] {
                return (len, Pem::Open);
            }
            if b[i..].starts_with(b"-----END ") {
                let lim = len.min(i + 9 + 80);
                if let Some(k) = memchr::memmem::find(&b[i + 9..lim], b"-----") {
                    return (i + 9 + k + 5, Pem::Closed);
                }
                if lim == len {
                    return (len, Pem::Open);
                }
            }
            return (last, Pem::Stopped { words });
        }
        let st = i;
        while i < len && (b64(b[i]) || matches!(b[i], b':' | b',' | b'-')) {
            i += 1;
        }
        if i == len {
            return (len, Pem::Open);
        }
        if i == st || !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b'\\') {
            return (last, Pem::Stopped { words });
        }
        let w = &b[st..i];
        if pending.is_none() && w.len() >= 6 && w.ends_with(b":") && w.contains(&b'-') {
            // A header line: take the rest of it.
            while i < len && b[i] != b'\n' && !(b[i] == b'\\' && at(b, i + 1) == b'n') {
                i += 1;
            }
            if i == len {
                return (len, Pem::Open);
            }
            last = i;
            continue;
        }
        if !w.iter().all(|&c| b64(c)) || pending.is_some() {
            return (last, Pem::Stopped { words });
        }
        if w.len() >= 16 {
            words += 1;
            last = i;
        } else {
            pending = Some(i);
        }
    }
}

/// A run of digit groups separated by single separators (` `, `-`, `.`, `/`).
pub(crate) struct Run {
    pub d: [u8; 24],
    pub nd: usize,
    pub glen: [u8; 8],
    pub sep: [u8; 8],
    pub groups: usize,
    pub end: usize,
}

impl Run {
    /// Parses from a digit at `s`. `None` if longer than 24 digits or 8 groups.
    pub(crate) fn parse(b: &[u8], s: usize) -> Option<Run> {
        let mut r = Run {
            d: [0; 24],
            nd: 0,
            glen: [0; 8],
            sep: [0; 8],
            groups: 0,
            end: s,
        };
        let mut i = s;
        loop {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if r.nd == 24 {
                    return None;
                }
                r.d[r.nd] = b[i] - b'0';
                r.nd += 1;
                i += 1;
            }
            if i == st {
                break;
            }
            if r.groups == 8 {
                return None;
            }
            r.glen[r.groups] = (i - st).min(255) as u8;
            r.groups += 1;
            r.end = i;
            let c = at(b, i);
            if matches!(c, b' ' | b'-' | b'.' | b'/') && at(b, i + 1).is_ascii_digit() {
                r.sep[r.groups - 1] = c;
                i += 1;
            } else {
                break;
            }
        }
        Some(r)
    }

    fn digits(&self) -> &[u8] {
        &self.d[..self.nd]
    }

    fn shape(&self) -> &[u8] {
        &self.glen[..self.groups]
    }

    fn all_sep(&self, c: u8) -> bool {
        self.sep[..self.groups.saturating_sub(1)]
            .iter()
            .all(|&s| s == c)
    }

    /// All separators equal and one of `allowed`.
    fn uniform(&self, allowed: &[u8]) -> bool {
        self.groups == 1 || (allowed.contains(&self.sep[0]) && self.all_sep(self.sep[0]))
    }

    fn value(&self, g: usize) -> u32 {
        let off: usize = self.glen[..g].iter().map(|&x| usize::from(x)).sum();
        self.d[off..off + usize::from(self.glen[g])]
            .iter()
            .fold(0, |a, &x| a * 10 + u32::from(x))
    }
}

/// Offers every shape/validator that fits `run` to `consider(kind, base score, end)`.
fn classify(run: &Run, _b: &[u8], on: KindSet, consider: &mut impl FnMut(K, f32, usize, KindSet)) {
    let d = run.digits();
    let shape = run.shape();
    let end = run.end;
    let plain = run.groups == 1;
    let sp_dash = run.uniform(b" -");
    // IPv4
    if run.groups == 4 && run.all_sep(b'.') {
        let ok = shape.iter().all(|&l| (1..=3).contains(&l)) && (0..4).all(|g| run.value(g) <= 255);
        if ok {
            consider(K::IpAddress, 0.7, end, on);
        }
        return;
    }
    // Dates of birth (only with context, see base score).
    if run.groups == 3 && run.uniform(b"-/.") {
        let (y, m, dd) = match shape {
            [4, 2, 2] => (run.value(0), run.value(1), run.value(2)),
            [2, 2, 4] | [1, 2, 4] | [2, 1, 4] | [1, 1, 4] => {
                let (a, bb, yy) = (run.value(0), run.value(1), run.value(2));
                if a > 12 { (yy, bb, a) } else { (yy, a, bb) }
            }
            _ => (0, 0, 0),
        };
        if y != 0 {
            let ok = ck::date(y, m, dd) || ck::date(y, dd, m);
            consider_dob(ok, run, on, consider);
            return;
        }
    }
    let mut c = |k: K, base: f32, valid: bool| {
        if valid {
            consider(k, base, end, on);
        }
    };
    match d.len() {
        8 if sp_dash && (plain || shape == [2, 3, 3]) => {
            c(K::NzIrd, if plain { 0.3 } else { 0.45 }, ck::nz_ird(d));
        }
        9 => {
            let dashed = !plain && run.all_sep(b'-');
            if shape == [3, 2, 4] && sp_dash {
                c(
                    K::UsSsn,
                    if dashed { 0.6 } else { 0.5 },
                    ck::us_ssn(d) && !ck::us_itin(d),
                );
                // ITIN shares its format with invalid (9xx) SSNs: context decides.
                c(K::UsItin, 0.4, ck::us_itin(d));
            }
            if plain || (shape == [3, 3, 3] && sp_dash) {
                let g = if plain { 0.3 } else { 0.4 };
                c(K::AuTfn, g, ck::au_tfn(d));
                c(K::CaSin, g, ck::ca_sin(d));
                c(K::NzIrd, g, ck::nz_ird(d));
                c(K::AuAcn, g - 0.1, ck::au_acn(d));
            }
            if plain {
                c(K::UsSsn, 0.2, ck::us_ssn(d));
                // German practice and doctor numbers: context decides.
                c(K::DeLanr, 0.2, on.has(K::DeLanr) && ck::de_lanr(d));
                c(K::DeBsnr, 0.2, on.has(K::DeBsnr) && ck::de_bsnr(d));
                c(K::NlBsn, 0.2, ck::nl_bsn(d));
                c(K::UsBankRouting, 0.2, ck::aba_routing(d));
                c(K::UsPassport, 0.15, true);
            }
        }
        10 => {
            if plain || (shape == [3, 3, 4] && sp_dash) {
                c(K::UkNhs, if plain { 0.4 } else { 0.5 }, ck::uk_nhs(d));
            }
            if plain || (shape == [4, 5, 1] && run.all_sep(b' ')) {
                c(
                    K::AuMedicare,
                    if plain { 0.4 } else { 0.55 },
                    ck::au_medicare(d),
                );
            }
            if plain || shape == [4, 3, 3] && sp_dash {
                c(K::UsNpi, if plain { 0.3 } else { 0.4 }, ck::us_npi(d));
            }
            if plain && on.has(K::DePersonalId) {
                // Pre-2010 German identity card: nine digits and the check digit.
                let mut a = [0u8; 10];
                for (x, &v) in a.iter_mut().zip(d) {
                    *x = v + b'0';
                }
                c(K::DePersonalId, 0.15, ck::de_personal_id(&a));
            }
            if (shape == [6, 4] && run.all_sep(b'-')) || plain {
                c(
                    K::SePersonnummer,
                    if plain { 0.3 } else { 0.55 },
                    ck::se_personnummer(d),
                );
                c(
                    K::SeOrganisationsnummer,
                    if plain { 0.3 } else { 0.45 },
                    ck::se_organisationsnummer(d),
                );
            }
        }
        11 => {
            if plain || (shape == [2, 3, 3, 3] && run.all_sep(b' ')) {
                c(K::AuAbn, if plain { 0.45 } else { 0.6 }, ck::au_abn(d));
                c(K::DeTaxId, 0.3, ck::de_tax_id(d));
            }
            if plain {
                c(K::PlPesel, 0.3, ck::pl_pesel(d));
                // Partita IVA: Luhn over 11 digits; 1 in 10 numbers pass, so context decides.
                c(K::ItVatCode, 0.2, ck::luhn(d));
            }
            if shape == [4, 5, 1, 1] && run.all_sep(b' ') || shape == [4, 5, 2] && run.all_sep(b' ')
            {
                c(K::AuMedicare, 0.5, ck::au_medicare(d));
            }
        }
        12 if (shape == [8, 4] && run.all_sep(b'-') || plain) => {
            c(
                K::SePersonnummer,
                if plain { 0.3 } else { 0.55 },
                ck::se_personnummer(&d[2..]),
            );
        }
        _ => {}
    }
    // German tax number (Steuernummer): the 13-digit ELSTER form, or a
    // state's printed form (`FF/BBB/UUUUP` BE, HH, NI, `FFF/BBB/UUUUP` BY
    // and the eastern states, `FFF/BBBB/UUUP` NW, `FF/BBB/UUUU/P` RP,
    // `FFBBB/UUUUP` BW, `FF BBB UUUUP` HB and SH, `0FF BBB UUUUP` HE).
    // No state check digit is verified, so context decides.
    if on.has(K::DeTaxNumber) {
        let slash = run.all_sep(b'/');
        let space = run.all_sep(b' ');
        let printed = match shape {
            [2, 3, 5] => slash || space,
            [3, 3, 5] => slash || space && d[0] == 0,
            [3, 4, 4] | [2, 3, 4, 1] | [5, 5] => slash,
            _ => false,
        };
        if printed || plain && ck::de_tax_number_elster(d) {
            c(K::DeTaxNumber, 0.3, true);
        }
    }
    if d.len() == 15 && (plain || shape == [1, 2, 2, 2, 3, 3, 2] && run.all_sep(b' ')) {
        c(K::FrInsee, if plain { 0.4 } else { 0.6 }, ck::fr_insee(d));
    }
    if plain && (8..=17).contains(&d.len()) {
        // US bank account numbers have no structure: context only.
        c(K::UsBankNumber, 0.2, true);
    }
    if plain && (8..=14).contains(&d.len()) {
        // Nor have most US driver's licences (Presidio scores bare digits
        // 0.01): context only.
        c(K::UsDriverLicense, 0.15, true);
    }
    if (12..=19).contains(&d.len()) && sp_dash {
        let shaped = plain
            || matches!(
                shape,
                [4, 4, 4, 4]
                    | [4, 6, 5]
                    | [4, 6, 4]
                    | [4, 4, 4, 4, 3]
                    | [4, 4, 4, 3]
                    | [4, 4, 4, 2]
                    | [4, 4, 5]
                    | [4, 4, 4, 4, 2]
                    | [4, 4, 4, 4, 1]
            );
        c(K::CreditCard, 0.9, shaped && ck::credit_card(d));
    }
}

fn consider_dob(
    ok: bool,
    run: &Run,
    on: KindSet,
    consider: &mut impl FnMut(K, f32, usize, KindSet),
) {
    if ok {
        // Base below any threshold: a date is only a birth date in context.
        consider(K::DateOfBirth, 0.2, run.end, on);
    }
}

/// A phone number starting at `s` (`+`, `(` or a digit): `(end, base score)`.
pub(crate) fn phone(b: &[u8], s: usize) -> Option<(usize, f32)> {
    let mut i = s;
    let plus = at(b, i) == b'+';
    if plus {
        i += 1;
    }
    let mut digits = 0usize;
    let mut groups: [u8; 12] = [0; 12];
    let mut ng = 0usize;
    let mut seps = 0u32;
    let mut sep_kinds = [false; 3];
    let mut paren = false;
    let mut end;
    let mut first_digit = 0u8;
    loop {
        let st = i;
        let in_paren = at(b, i) == b'(';
        if in_paren {
            i += 1;
        }
        let ds = i;
        while at(b, i).is_ascii_digit() {
            if digits == 0 {
                first_digit = b[i];
            }
            digits += 1;
            i += 1;
            if digits > 15 {
                return None;
            }
        }
        if i == ds {
            return None;
        }
        if in_paren {
            if at(b, i) != b')' || i - ds > 5 {
                return None;
            }
            i += 1;
            paren = true;
        }
        if ng == 12 {
            return None;
        }
        groups[ng] = (i - ds) as u8;
        ng += 1;
        end = i;
        let _ = st;
        // Separator, then another group.
        let c = at(b, i);
        let after_paren = in_paren;
        if matches!(c, b' ' | b'-' | b'.')
            && (at(b, i + 1).is_ascii_digit()
                || at(b, i + 1) == b'(' && at(b, i + 2).is_ascii_digit())
        {
            sep_kinds[match c {
                b' ' => 0,
                b'-' => 1,
                _ => 2,
            }] = true;
            seps += 1;
            i += 1;
            continue;
        }
        if after_paren && c.is_ascii_digit() {
            continue;
        }
        if c == b'(' && at(b, i + 1).is_ascii_digit() && plus && ng == 1 {
            // +44(0)20 …
            continue;
        }
        break;
    }
    if !token_end(b, end) {
        return None;
    }
    let groups = &groups[..ng];
    let last = *groups.last()?;
    let _ = seps;
    let mixed = sep_kinds.iter().filter(|&&x| x).count() > 1;
    if plus {
        if !(8..=15).contains(&digits) || first_digit == b'0' {
            return None;
        }
        return Some((end, 0.7));
    }
    let intl = first_digit == b'0' && at(b, s + 1) == b'0';
    let max = if intl { 14 } else { 12 };
    if !(8..=max).contains(&digits) || last < 2 || ng > 6 {
        return None;
    }
    // Dates and times are not phones.
    if matches!(groups, [4, 2, 2] | [2, 2, 4] | [4, 2, 2, 2]) {
        return None;
    }
    if paren {
        return Some((end, if mixed { 0.45 } else { 0.55 }));
    }
    let us = matches!(groups, [3, 3, 4] | [1, 3, 3, 4])
        && (sep_kinds[1] ^ sep_kinds[2])
        && !sep_kinds[0];
    Some((end, if us { 0.5 } else { 0.3 }))
}

impl Scanner<'_> {
    /// A phone from a `+` or `(` trigger.
    fn phone_at(&mut self, s: usize) -> Option<usize> {
        let (e, base) = phone(self.b, s)?;
        Some(self.push_ctx(s, e, K::Phone, base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_bits_matches_a_byte_loop() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let naive = x.to_le_bytes().iter().enumerate().fold(0u64, |m, (k, c)| {
                m | (u64::from(c.is_ascii_alphabetic()) << k)
            });
            assert_eq!(letter_bits(x), naive, "{x:#x}");
        }
        for c in 0..=255u8 {
            let v = u64::from_le_bytes([c; 8]);
            assert_eq!(
                letter_bits(v),
                if c.is_ascii_alphabetic() { 0xFF } else { 0 },
                "{c}"
            );
        }
    }

    #[test]
    fn context_words_nearest_first() {
        let text = b"Hello: my National Insurance number is XX";
        let c = Context::before(text, text.len() - 2);
        assert_eq!(c.n, 6);
        assert_eq!(c.words[0], pack(b"is"));
        assert_eq!(c.words[2], pack(b"insurance"));
        assert!(c.has(words!["insurance"]));
        assert!(c.has(words!["a", "b", "number"]));
        assert!(!c.has(words!["ssn"]));
        // A word cut by the 48-byte window does not count.
        let long = [b"passport".as_slice(), &[b'x'; 60], b" 123"].concat();
        let c = Context::before(&long, long.len() - 3);
        assert_eq!(c.n, 0);
        // Words longer than 16 letters count by their 16-letter prefix.
        let text = b"Steueridentifikationsnummer: 1";
        let c = Context::before(text, text.len() - 1);
        assert!(c.has(K::DeTaxId.context()));
        assert!(!c.has(words!["steuerklassenwechsel"]));
    }
    #[test]
    fn context_word_lists_are_folded() {
        let lists = K::ALL
            .iter()
            .map(|k| k.context())
            .chain([ASSIGN_KEYS, QUERY_KEYS]);
        for list in lists {
            for &w in &list.words[..list.n] {
                let bytes = w.to_le_bytes();
                let len = bytes.iter().position(|&x| x == 0).unwrap_or(16);
                let text = match std::str::from_utf8(&bytes[..len]) {
                    Ok(t) => t,
                    Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap(),
                };
                let folded: String = text.chars().map(fold).collect();
                assert_eq!(folded, text, "context word {text:?} is not folded");
            }
        }
    }

    #[test]
    fn unicode_context_words() {
        let t = "Geburtsdatum: x".as_bytes();
        let c = Context::before(t, t.len() - 1);
        assert!(c.has(words!["geburtsdatum"]));
        let t = "ÄRZTIN Müller x".as_bytes();
        let c = Context::before(t, t.len() - 1);
        assert_eq!(c.n, 2);
        assert!(c.has(words!["ärztin"]) && c.has(words!["müller"]));
        assert!(!c.has(words!["arztin"]));
        assert_eq!(fold('ẞ'), 'ß');
        assert_eq!(fold('Σ'), 'σ');
        assert_eq!(fold('ς'), 'σ');
        assert_eq!(fold('İ'), 'İ');
        // Invalid UTF-8 separates words and is never a word.
        let t = b"stra\xffsse x";
        let c = Context::before(t, t.len() - 1);
        assert!(c.has(words!["stra"]) && c.has(words!["sse"]));
    }
}
