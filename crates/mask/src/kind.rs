//! The kinds of personal data a finding can be.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::scan::{CtxWords, words};
use crate::{Error, Regions};

/// Where the detector looks for a built-in kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scope {
    /// The scanner, in every configuration.
    Global,
    /// The scanner, when the detector's regions include this one.
    Region(Regions),
}

macro_rules! scope {
    (global) => {
        Scope::Global
    };
    ($r:ident) => {
        Scope::Region(Regions::$r)
    };
}

// One declaration per kind: the public `Kind` and the scanner's copyable
// index `K` with its recognizer name, scope and context words, so adding a
// kind touches one place.
macro_rules! kinds {
    ($(
        $(#[$m:meta])*
        $v:ident {
            name: $s:literal,
            recognizer: $rec:literal,
            scope: $scope:ident,
            context: [$($w:literal),* $(,)?] $(,)?
        }
    ),* $(,)?) => {
        /// What a finding is: an email, a card number, a national id, a secret.
        ///
        /// The names (`as_str`) are the stable labels of the test data and of
        /// the masked output (`[EMAIL]`). Host-defined recognizers use
        /// [`Kind::custom`] with their own upper-case name, which makes a
        /// [`Kind::Custom`]; a name is one kind, whichever way it is made.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Kind {
            $($(#[$m])* $v,)*
            /// A kind named by the host (custom recognizer or known entity),
            /// made by [`Kind::custom`] or parsing: never a built-in
            /// kind's name.
            Custom(CustomKind),
        }

        impl Kind {
            /// Every built-in kind, in a fixed order.
            pub const BUILTIN: &'static [Kind] = &[$(Kind::$v),*];

            /// The stable upper-case name, e.g. `"CREDIT_CARD"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Kind::$v => $s,)*
                    Kind::Custom(name) => name.as_str(),
                }
            }
        }

        impl FromStr for Kind {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($s => Ok(Kind::$v),)*
                    _ => Kind::custom(s),
                }
            }
        }

        /// A built-in kind as a copyable index: bit `K as u8` of a
        /// [`KindSet`](crate::scan::KindSet).
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(u8)]
        pub(crate) enum K {
            $($v,)*
        }

        impl K {
            /// Every built-in kind, in [`Kind::BUILTIN`] order.
            pub(crate) const ALL: [K; Kind::BUILTIN.len()] = [$(K::$v),*];

            #[inline]
            pub(crate) fn kind(self) -> Kind {
                match self {
                    $(K::$v => Kind::$v,)*
                }
            }

            /// Where the detector looks for it.
            pub(crate) fn scope(self) -> Scope {
                match self {
                    $(K::$v => scope!($scope),)*
                }
            }

            /// Context words (whole words, written in their simple case
            /// folding, non-ASCII allowed: `straße`, `führerschein`) that
            /// raise confidence when they occur within the few words before
            /// a match.
            #[inline]
            pub(crate) fn context(self) -> &'static CtxWords {
                match self {
                    $(K::$v => words![$($w),*],)*
                }
            }

            /// The recognizer's stable name, reported with each finding.
            #[inline]
            pub(crate) fn recognizer(self) -> &'static str {
                match self {
                    $(K::$v => $rec,)*
                }
            }
        }
    };
}

// A KindSet is a u128.
const _: () = assert!(Kind::BUILTIN.len() <= 128);

kinds! {
    /// An email address.
    Email {
        name: "EMAIL",
        recognizer: "email",
        scope: global,
        context: ["email", "mail", "e"],
    },
    /// A telephone number (E.164 or a national format).
    Phone {
        name: "PHONE",
        recognizer: "phone",
        scope: global,
        context: [
            "phone", "tel", "telephone", "mobile", "cell", "call", "callback", "contact", "fax",
            "whatsapp", "sms", "ring", "reach", "landline", "text",
            // Short labels of forms and signatures, and other languages'.
            "mob", "cellphone", "handphone", "gsm", "tél", "téléphone", "telefon", "telefono",
            "teléfono", "handy", "portable", "cel", "celular", "móvil", "movil", "natel",
        ],
    },
    /// A payment card number (IIN range and Luhn).
    CreditCard {
        name: "CREDIT_CARD",
        recognizer: "credit_card_luhn",
        scope: global,
        context: ["card", "visa", "mastercard", "amex", "credit", "debit", "payment", "cc"],
    },
    /// An international bank account number (length and mod-97).
    Iban {
        name: "IBAN",
        recognizer: "iban_mod97",
        scope: global,
        context: ["iban", "account", "bank", "transfer"],
    },
    /// An IPv4 or IPv6 address.
    IpAddress {
        name: "IP_ADDRESS",
        recognizer: "ip_address",
        scope: global,
        context: ["ip", "server", "host", "address", "from", "client"],
    },
    /// A MAC address.
    MacAddress {
        name: "MAC_ADDRESS",
        recognizer: "mac_address",
        scope: global,
        context: ["mac", "hardware", "ethernet", "wifi"],
    },
    /// A secret: API keys, tokens, private keys, passwords, URL credentials.
    Secret {
        name: "SECRET",
        recognizer: "secret",
        scope: global,
        context: ["password", "token", "key", "secret"],
    },
    /// A date of birth (a date with birth context).
    DateOfBirth {
        name: "DATE_OF_BIRTH",
        recognizer: "date_of_birth",
        scope: global,
        context: [
            "birth", "born", "dob", "birthday", "birthdate", "geboren", "geb", "geburtsdatum",
            "geburtstag", "nee", "née", "né", "naissance", "nacimiento", "nascita",
        ],
    },
    /// A person's name: given names and surnames from the gazetteer, with
    /// context (greetings, titles, sign-offs, "my name is"), or a host's
    /// known entity.
    Person {
        name: "PERSON",
        recognizer: "person_gazetteer",
        scope: global,
        context: [],
    },
    /// A postal address: house number, street and type, unit, locality,
    /// state and postcode (US, UK, AU, NZ, CA, IE, DE).
    Address {
        name: "ADDRESS",
        recognizer: "street_address",
        scope: global,
        context: [],
    },
    /// A postcode standing alone, named by a postcode word on its line or
    /// the label line above (`postcode 6011`, `zip 90210`, `postal code
    /// M5V 2T6`, `Eircode D02 X285`, `PLZ 10115`) or by an Australian state
    /// (`Bondi NSW 2026`), in any supported country's format (UK, CA, IE,
    /// US ZIP and ZIP+4, AU/NZ, DE). Found by its shape alone, a code is
    /// the regional kind ([`Kind::UkPostcode`], [`Kind::CaPostalCode`],
    /// [`Kind::DePostalCode`]). Inside an address it is part of the
    /// [`Kind::Address`].
    Postcode {
        name: "POSTCODE",
        recognizer: "postcode_in_context",
        scope: global,
        context: ["postcode", "postcodes", "zip", "zips", "zipcode", "postal", "postaux", "eircode", "eircodes"],
    },
    /// An organisation named with its legal form (`Acme Logistics Pty Ltd`,
    /// `Müller GmbH`). Detected, but kept by the default masking policy.
    Organization {
        name: "ORGANIZATION",
        recognizer: "legal_form_suffix",
        scope: global,
        context: [],
    },
    /// US social security number.
    UsSsn {
        name: "US_SSN",
        recognizer: "us_ssn",
        scope: US,
        context: ["ssn", "social", "security", "ss"],
    },
    /// US individual taxpayer identification number.
    UsItin {
        name: "US_ITIN",
        recognizer: "us_itin",
        scope: US,
        context: ["itin", "taxpayer"],
    },
    /// US ABA bank routing number.
    UsBankRouting {
        name: "US_BANK_ROUTING",
        recognizer: "us_aba_routing",
        scope: US,
        context: ["routing", "aba", "rtn", "transit"],
    },
    /// US passport number.
    UsPassport {
        name: "US_PASSPORT",
        recognizer: "us_passport",
        scope: US,
        context: ["passport"],
    },
    /// US bank account number (with context).
    UsBankNumber {
        name: "US_BANK_NUMBER",
        recognizer: "us_bank_number",
        scope: US,
        context: ["account", "acct", "bank", "checking", "savings"],
    },
    /// US driver's licence number (with context: the shapes vary by state).
    UsDriverLicense {
        name: "US_DRIVER_LICENSE",
        recognizer: "us_driver_license",
        scope: US,
        // Not `driver` alone: "driver update KB5034441" is a patch.
        context: ["license", "licence", "lic", "dl", "dls", "cdl", "cdls", "permit"],
    },
    /// US DEA registration number (Presidio's `MEDICAL_LICENSE`, checksum).
    MedicalLicense {
        name: "MEDICAL_LICENSE",
        recognizer: "us_dea_checksum",
        scope: US,
        context: ["dea", "medical", "certificate", "prescriber", "registration"],
    },
    /// US National Provider Identifier (Luhn with the `80840` prefix).
    UsNpi {
        name: "US_NPI",
        recognizer: "us_npi_luhn",
        scope: US,
        context: ["npi", "provider", "taxonomy"],
    },
    /// US Medicare Beneficiary Identifier.
    UsMbi {
        name: "US_MBI",
        recognizer: "us_mbi",
        scope: US,
        context: ["medicare", "mbi", "beneficiary", "cms", "medicaid", "hicn"],
    },
    /// UK national insurance number.
    UkNino {
        name: "UK_NINO",
        recognizer: "uk_nino",
        scope: UK,
        context: ["nino", "insurance", "ni"],
    },
    /// UK NHS number.
    UkNhs {
        name: "UK_NHS",
        recognizer: "uk_nhs_mod11",
        scope: UK,
        context: ["nhs", "health"],
    },
    /// UK postcode.
    UkPostcode {
        name: "UK_POSTCODE",
        recognizer: "uk_postcode",
        scope: UK,
        context: ["postcode", "post", "address"],
    },
    /// UK passport number (two letters and seven digits, with context).
    UkPassport {
        name: "UK_PASSPORT",
        recognizer: "uk_passport",
        scope: UK,
        context: ["uk", "british", "hmpo", "majesty", "hm"],
    },
    /// UK (DVLA) driving licence number.
    UkDrivingLicence {
        name: "UK_DRIVING_LICENCE",
        recognizer: "uk_driving_licence",
        scope: UK,
        context: ["driving", "licence", "license", "dvla", "dl"],
    },
    /// UK vehicle registration (current, prefix and suffix formats, with context).
    UkVehicleRegistration {
        name: "UK_VEHICLE_REGISTRATION",
        recognizer: "uk_vehicle_registration",
        scope: UK,
        context: [
            "vehicle", "registration", "plate", "reg", "vrn", "dvla", "logbook", "mot", "car",
            "van",
        ],
    },
    /// Australian tax file number.
    AuTfn {
        name: "AU_TFN",
        recognizer: "au_tfn",
        scope: AU,
        context: ["tfn", "tax"],
    },
    /// Australian business number.
    AuAbn {
        name: "AU_ABN",
        recognizer: "au_abn_mod89",
        scope: AU,
        context: ["abn", "business"],
    },
    /// Australian company number.
    AuAcn {
        name: "AU_ACN",
        recognizer: "au_acn",
        scope: AU,
        context: ["acn", "company"],
    },
    /// Australian Medicare card number.
    AuMedicare {
        name: "AU_MEDICARE",
        recognizer: "au_medicare",
        scope: AU,
        context: ["medicare"],
    },
    /// Canadian social insurance number.
    CaSin {
        name: "CA_SIN",
        recognizer: "ca_sin_luhn",
        scope: CA,
        context: ["sin", "social", "insurance"],
    },
    /// Canadian postal code.
    CaPostalCode {
        name: "CA_POSTAL_CODE",
        recognizer: "ca_postal_code",
        scope: CA,
        context: ["postal", "code", "address"],
    },
    /// New Zealand inland revenue number.
    NzIrd {
        name: "NZ_IRD",
        recognizer: "nz_ird_mod11",
        scope: NZ,
        context: ["ird", "inland", "revenue", "gst"],
    },
    /// New Zealand national health index number.
    NzNhi {
        name: "NZ_NHI",
        recognizer: "nz_nhi",
        scope: NZ,
        context: ["nhi", "health"],
    },
    /// German tax identification number (Steuer-IdNr).
    DeTaxId {
        name: "DE_TAX_ID",
        recognizer: "de_tax_id",
        scope: DE,
        context: ["steuer", "steuerid", "idnr", "steueridentifikationsnummer", "tax"],
    },
    /// German identity card (Personalausweis) serial number (with context).
    DeIdCard {
        name: "DE_ID_CARD",
        recognizer: "de_id_card",
        scope: DE,
        context: [
            "personalausweis", "personalausweisnummer", "ausweis", "ausweisnummer",
            "ausweisdokument", "perso",
        ],
    },
    /// German passport (Reisepass) number (ICAO check digit, with context).
    DePassport {
        name: "DE_PASSPORT",
        recognizer: "de_passport_icao",
        scope: DE,
        context: ["reisepass", "reisepassnummer", "passnummer", "passport", "dokumentennummer"],
    },
    /// German driving licence (Führerschein) number (with context).
    DeDriverLicense {
        name: "DE_DRIVER_LICENSE",
        recognizer: "de_driver_license",
        scope: DE,
        context: [
            "führerschein", "fuhrerschein", "fuehrerschein", "führerscheinnummer",
            "fuhrerscheinnummer", "fuehrerscheinnummer", "fahrerlaubnis", "fahrerlaubnisnummer",
        ],
    },
    /// German Betriebsstättennummer (practice site number, with context).
    DeBsnr {
        name: "DE_BSNR",
        recognizer: "de_bsnr",
        scope: DE,
        context: [
            "bsnr", "betriebsstättennummer", "betriebsstätte", "betriebsstaette",
            "betriebsstättennr", "praxisnummer", "arztpraxis", "praxis", "kassenärztliche", "kv",
            "praxisadresse", "praxisstandort", "nebenbetriebsstätte", "hauptbetriebsstätte",
            "behandlungsort", "vertragsarztpraxis",
        ],
    },
    /// German commercial register number (`HRB 12345`, Handelsregister).
    DeCommercialRegister {
        name: "DE_COMMERCIAL_REGISTER",
        recognizer: "de_commercial_register",
        scope: DE,
        context: [
            "handelsregister", "handelsregisternummer", "hrnr", "registernummer", "register",
            "amtsgericht", "registergericht", "eingetragen", "firmenbuch", "commercial",
        ],
    },
    /// German health insurance number (KVNR, check digit).
    DeKvnr {
        name: "DE_KVNR",
        recognizer: "de_kvnr",
        scope: DE,
        context: [
            "kvnr", "krankenversichertennummer", "versichertennummer", "versichertennr",
            "versicherten", "versicherte", "krankenkasse", "krankenversicherung", "patientennummer",
            "patienten", "patient", "insurance", "egk",
        ],
    },
    /// German lifelong doctor number (LANR, check digit, with context).
    DeLanr {
        name: "DE_LANR",
        recognizer: "de_lanr",
        scope: DE,
        context: ["lanr", "arztnummer", "arztnr", "arzt", "lebenslange", "physician", "doctor"],
    },
    /// German vehicle registration plate (Kfz-Kennzeichen, with context).
    DeLicensePlate {
        name: "DE_LICENSE_PLATE",
        recognizer: "de_license_plate",
        scope: DE,
        context: [
            "kennzeichen", "kfz", "fahrzeugkennzeichen", "nummernschild", "autokennzeichen",
            "fahrzeug", "auto", "plate", "fahrzeugregistrierung", "pkw", "lkw",
        ],
    },
    /// German identity card number with its check digit (with context).
    DePersonalId {
        name: "DE_PERSONAL_ID",
        recognizer: "de_personal_id",
        scope: DE,
        context: [
            "personalausweis", "personalausweisnummer", "ausweisnummer", "ausweisnr", "ausweis",
            "identitätskarte", "perso", "identity",
        ],
    },
    /// German postcode (Postleitzahl, with context).
    DePostalCode {
        name: "DE_POSTAL_CODE",
        recognizer: "de_postal_code",
        scope: DE,
        context: [
            "postleitzahl", "plz", "postcode", "postal", "ort", "wohnort", "stadt", "anschrift",
            "adresse", "straße", "strasse", "wohnhaft",
        ],
    },
    /// German pension insurance number (Rentenversicherungsnummer).
    DeSocialSecurity {
        name: "DE_SOCIAL_SECURITY",
        recognizer: "de_social_security",
        scope: DE,
        context: [
            "rentenversicherungsnummer", "sozialversicherungsnummer", "versicherungsnummer", "rvnr",
            "svnr", "sv", "rente", "rentenversicherung", "drv", "sozialversicherung",
            "sozialversicherungsausweis", "rentenausweis", "social",
        ],
    },
    /// German tax number (Steuernummer, state formats, with context).
    DeTaxNumber {
        name: "DE_TAX_NUMBER",
        recognizer: "de_tax_number",
        scope: DE,
        context: [
            "steuernummer", "steuer", "stnr", "st", "finanzamt", "umsatzsteuer", "einkommensteuer",
            "körperschaftsteuer", "gewerbesteuer", "steuerveranlagung", "steuerbescheid", "tax",
        ],
    },
    /// German Telematik-ID (health telematics infrastructure, with context).
    DeTelematikId {
        name: "DE_TELEMATIK_ID",
        recognizer: "de_telematik_id",
        scope: DE,
        context: [
            "telematik", "telematikid", "gesundheits", "gesundheitsid", "ehba", "smc",
            "heilberufsausweis", "health", "versicherten", "ti", "telematics", "rezept", "epa",
            "patientenakte",
        ],
    },
    /// German VAT id (USt-IdNr, `DE` and nine digits, check digit).
    DeVatCode {
        name: "DE_VAT_CODE",
        recognizer: "de_vat_code",
        scope: DE,
        context: [
            "umsatzsteuer", "umsatzsteuerid", "ust", "ustid", "ustidnr", "vat", "steuernummer",
            "idnr", "identifikationsnummer",
        ],
    },
    /// Spanish NIF (DNI) number.
    EsNif {
        name: "ES_NIF",
        recognizer: "es_nif",
        scope: EU_OTHER,
        context: ["nif", "dni"],
    },
    /// Spanish NIE number.
    EsNie {
        name: "ES_NIE",
        recognizer: "es_nie",
        scope: EU_OTHER,
        context: ["nie"],
    },
    /// Spanish passport number (three letters and six digits, with context).
    EsPassport {
        name: "ES_PASSPORT",
        recognizer: "es_passport",
        scope: EU_OTHER,
        context: ["pasaporte", "passport"],
    },
    /// Italian fiscal code (codice fiscale).
    ItFiscalCode {
        name: "IT_FISCAL_CODE",
        recognizer: "it_fiscal_code",
        scope: EU_OTHER,
        context: ["fiscale", "codice", "cf", "fiscal"],
    },
    /// Italian VAT number (partita IVA).
    ItVatCode {
        name: "IT_VAT_CODE",
        recognizer: "it_vat_code",
        scope: EU_OTHER,
        context: ["iva", "vat", "partita"],
    },
    /// Italian passport number (with context).
    ItPassport {
        name: "IT_PASSPORT",
        recognizer: "it_passport",
        scope: EU_OTHER,
        context: ["passaporto", "passport"],
    },
    /// Italian identity card number (with context).
    ItIdentityCard {
        name: "IT_IDENTITY_CARD",
        recognizer: "it_identity_card",
        scope: EU_OTHER,
        context: ["carta", "identita", "identity", "cie", "documento"],
    },
    /// Italian driving licence number (patente, with context).
    ItDriverLicense {
        name: "IT_DRIVER_LICENSE",
        recognizer: "it_driver_license",
        scope: EU_OTHER,
        context: ["patente", "guida", "driving", "licence", "license"],
    },
    /// Dutch citizen service number (BSN).
    NlBsn {
        name: "NL_BSN",
        recognizer: "nl_bsn",
        scope: EU_OTHER,
        context: ["bsn", "burgerservicenummer", "sofinummer"],
    },
    /// Polish PESEL number.
    PlPesel {
        name: "PL_PESEL",
        recognizer: "pl_pesel",
        scope: EU_OTHER,
        context: ["pesel"],
    },
    /// Swedish personal identity number (personnummer).
    SePersonnummer {
        name: "SE_PERSONNUMMER",
        recognizer: "se_personnummer",
        scope: EU_OTHER,
        context: ["personnummer", "personnr"],
    },
    /// Swedish organisation number (organisationsnummer, Luhn).
    SeOrganisationsnummer {
        name: "SE_ORGANISATIONSNUMMER",
        recognizer: "se_organisationsnummer_luhn",
        scope: EU_OTHER,
        context: ["organisationsnummer", "orgnr", "org", "organisation"],
    },
    /// Finnish personal identity code (HETU).
    FiHetu {
        name: "FI_HETU",
        recognizer: "fi_hetu",
        scope: EU_OTHER,
        context: ["hetu", "henkilotunnus"],
    },
    /// French social security number (INSEE / NIR).
    FrInsee {
        name: "FR_INSEE",
        recognizer: "fr_insee",
        scope: EU_OTHER,
        context: ["insee", "nir", "secu", "securite", "sociale"],
    },
}

/// The name of a host-defined [`Kind::Custom`]: 1 to 48 characters of
/// `A-Z`, `0-9` and `_`, starting with a letter, and no built-in kind's
/// name. Only [`Kind::custom`] (and parsing a [`Kind`]) makes one, so a
/// built-in kind has one value (`Kind::custom("PERSON")` is
/// [`Kind::Person`], the same key in a [`MaskPolicy`](crate::MaskPolicy)),
/// and every token named after a kind is one that
/// [`TokenVault::unmask`](crate::TokenVault::unmask) reads.
///
/// ```
/// use custodia_mask::Kind;
/// assert_eq!(Kind::custom("PERSON")?, Kind::Person);
/// assert!(matches!(Kind::custom("CUSTOMER_ID")?, Kind::Custom(_)));
/// assert!(Kind::custom("customer_id").is_err());
/// # Ok::<(), custodia_mask::Error>(())
/// ```
///
/// Built directly, a custom kind could carry a built-in kind's name (or a
/// lower-case one), so it cannot be:
///
/// ```compile_fail
/// let person = custodia_mask::Kind::Custom("PERSON".into());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomKind(pub(crate) Arc<str>);

impl CustomKind {
    /// The name, e.g. `"CUSTOMER_ID"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for CustomKind {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for CustomKind {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CustomKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest custom kind name, in bytes (and characters: ASCII).
pub(crate) const CUSTOM_NAME_MAX: usize = 48;

impl Kind {
    /// A host-defined kind: 1 to 48 characters of `A-Z`, `0-9` and `_`,
    /// starting with a letter. A built-in kind's name gives that kind
    /// (`Kind::custom("PERSON")` is [`Kind::Person`]); any other name is
    /// refused, lower case too (`"person"`): tokens are named after the
    /// kind, and [`TokenVault::unmask`](crate::TokenVault::unmask) reads
    /// only upper-case names.
    pub fn custom(name: &str) -> Result<Kind, Error> {
        let ok = !name.is_empty()
            && name.len() <= CUSTOM_NAME_MAX
            && name.as_bytes()[0].is_ascii_uppercase()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            if let Some(k) = Kind::BUILTIN.iter().find(|k| k.as_str() == name) {
                return Ok(k.clone());
            }
            Ok(Kind::Custom(CustomKind(Arc::from(name))))
        } else {
            Err(Error::InvalidKind {
                input: name.chars().take(64).collect(),
            })
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
