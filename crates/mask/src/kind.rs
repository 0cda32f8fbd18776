//! The kinds of personal data a finding can be.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::Error;

macro_rules! kinds {
    ($($(#[$m:meta])* $v:ident => $s:literal),* $(,)?) => {
        /// What a finding is: an email, a card number, a national id, a secret.
        ///
        /// The names (`as_str`) are the stable labels of the test data and of
        /// the masked output (`[EMAIL]`). Host-defined recognizers use
        /// [`Kind::Custom`] with their own upper-case name.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Kind {
            $($(#[$m])* $v,)*
            /// A kind named by the host (custom recognizer or known entity).
            Custom(Arc<str>),
        }

        impl Kind {
            /// Every built-in kind, in a fixed order.
            pub const BUILTIN: &'static [Kind] = &[$(Kind::$v),*];

            /// The stable upper-case name, e.g. `"CREDIT_CARD"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Kind::$v => $s,)*
                    Kind::Custom(name) => name,
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
    };
}

kinds! {
    /// An email address.
    Email => "EMAIL",
    /// A telephone number (E.164 or a national format).
    Phone => "PHONE",
    /// A payment card number (IIN range and Luhn).
    CreditCard => "CREDIT_CARD",
    /// An international bank account number (length and mod-97).
    Iban => "IBAN",
    /// An IPv4 or IPv6 address.
    IpAddress => "IP_ADDRESS",
    /// A MAC address.
    MacAddress => "MAC_ADDRESS",
    /// A secret: API keys, tokens, private keys, passwords, URL credentials.
    Secret => "SECRET",
    /// A date of birth (a date with birth context).
    DateOfBirth => "DATE_OF_BIRTH",
    /// A person's name (from known entities).
    Person => "PERSON",
    /// US social security number.
    UsSsn => "US_SSN",
    /// US individual taxpayer identification number.
    UsItin => "US_ITIN",
    /// US ABA bank routing number.
    UsBankRouting => "US_BANK_ROUTING",
    /// US passport number.
    UsPassport => "US_PASSPORT",
    /// US bank account number (with context).
    UsBankNumber => "US_BANK_NUMBER",
    /// US driver's licence number (with context: the shapes vary by state).
    UsDriverLicense => "US_DRIVER_LICENSE",
    /// US DEA registration number (Presidio's `MEDICAL_LICENSE`, checksum).
    MedicalLicense => "MEDICAL_LICENSE",
    /// US National Provider Identifier (Luhn with the `80840` prefix).
    UsNpi => "US_NPI",
    /// US Medicare Beneficiary Identifier.
    UsMbi => "US_MBI",
    /// UK national insurance number.
    UkNino => "UK_NINO",
    /// UK NHS number.
    UkNhs => "UK_NHS",
    /// UK postcode.
    UkPostcode => "UK_POSTCODE",
    /// UK passport number (two letters and seven digits, with context).
    UkPassport => "UK_PASSPORT",
    /// UK (DVLA) driving licence number.
    UkDrivingLicence => "UK_DRIVING_LICENCE",
    /// UK vehicle registration (current, prefix and suffix formats, with context).
    UkVehicleRegistration => "UK_VEHICLE_REGISTRATION",
    /// Australian tax file number.
    AuTfn => "AU_TFN",
    /// Australian business number.
    AuAbn => "AU_ABN",
    /// Australian company number.
    AuAcn => "AU_ACN",
    /// Australian Medicare card number.
    AuMedicare => "AU_MEDICARE",
    /// Canadian social insurance number.
    CaSin => "CA_SIN",
    /// Canadian postal code.
    CaPostalCode => "CA_POSTAL_CODE",
    /// New Zealand inland revenue number.
    NzIrd => "NZ_IRD",
    /// New Zealand national health index number.
    NzNhi => "NZ_NHI",
    /// German tax identification number (Steuer-IdNr).
    DeTaxId => "DE_TAX_ID",
    /// German identity card (Personalausweis) serial number (with context).
    DeIdCard => "DE_ID_CARD",
    /// German passport (Reisepass) number (ICAO check digit, with context).
    DePassport => "DE_PASSPORT",
    /// German driving licence (Führerschein) number (with context).
    DeDriverLicense => "DE_DRIVER_LICENSE",
    /// German Betriebsstättennummer (practice site number, with context).
    DeBsnr => "DE_BSNR",
    /// German commercial register number (`HRB 12345`, Handelsregister).
    DeCommercialRegister => "DE_COMMERCIAL_REGISTER",
    /// German health insurance number (KVNR, check digit).
    DeKvnr => "DE_KVNR",
    /// German lifelong doctor number (LANR, check digit, with context).
    DeLanr => "DE_LANR",
    /// German vehicle registration plate (Kfz-Kennzeichen, with context).
    DeLicensePlate => "DE_LICENSE_PLATE",
    /// German identity card number with its check digit (with context).
    DePersonalId => "DE_PERSONAL_ID",
    /// German postcode (Postleitzahl, with context).
    DePostalCode => "DE_POSTAL_CODE",
    /// German pension insurance number (Rentenversicherungsnummer).
    DeSocialSecurity => "DE_SOCIAL_SECURITY",
    /// German tax number (Steuernummer, state formats, with context).
    DeTaxNumber => "DE_TAX_NUMBER",
    /// German Telematik-ID (health telematics infrastructure, with context).
    DeTelematikId => "DE_TELEMATIK_ID",
    /// German VAT id (USt-IdNr, `DE` and nine digits, check digit).
    DeVatCode => "DE_VAT_CODE",
    /// Spanish NIF (DNI) number.
    EsNif => "ES_NIF",
    /// Spanish NIE number.
    EsNie => "ES_NIE",
    /// Spanish passport number (three letters and six digits, with context).
    EsPassport => "ES_PASSPORT",
    /// Italian fiscal code (codice fiscale).
    ItFiscalCode => "IT_FISCAL_CODE",
    /// Italian VAT number (partita IVA).
    ItVatCode => "IT_VAT_CODE",
    /// Italian passport number (with context).
    ItPassport => "IT_PASSPORT",
    /// Italian identity card number (with context).
    ItIdentityCard => "IT_IDENTITY_CARD",
    /// Italian driving licence number (patente, with context).
    ItDriverLicense => "IT_DRIVER_LICENSE",
    /// Dutch citizen service number (BSN).
    NlBsn => "NL_BSN",
    /// Polish PESEL number.
    PlPesel => "PL_PESEL",
    /// Swedish personal identity number (personnummer).
    SePersonnummer => "SE_PERSONNUMMER",
    /// Swedish organisation number (organisationsnummer, Luhn).
    SeOrganisationsnummer => "SE_ORGANISATIONSNUMMER",
    /// Finnish personal identity code (HETU).
    FiHetu => "FI_HETU",
    /// French social security number (INSEE / NIR).
    FrInsee => "FR_INSEE",
}

impl Kind {
    /// A host-defined kind: 1 to 48 characters of `A-Z`, `0-9` and `_`,
    /// starting with a letter.
    pub fn custom(name: &str) -> Result<Kind, Error> {
        let ok = !name.is_empty()
            && name.len() <= 48
            && name.as_bytes()[0].is_ascii_uppercase()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            if let Some(k) = Kind::BUILTIN.iter().find(|k| k.as_str() == name) {
                return Ok(k.clone());
            }
            Ok(Kind::Custom(Arc::from(name)))
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
