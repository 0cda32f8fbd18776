//! The personal-data category taxonomy.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::error::echo;

/// The longest category path, in bytes.
pub const MAX_CATEGORY_LEN: usize = 255;
/// The most segments a category path may have.
pub const MAX_CATEGORY_DEPTH: usize = 16;

/// A personal-data category: a dotted path in the category tree.
///
/// Cheap to clone for the built-in constants (a borrowed `&'static str`);
/// custom categories own their text.
///
/// The personal-data category taxonomy.
///
/// A [`DataCategory`] is a dotted path such as `user.contact.email`, in the style
/// of [fideslang](https://ethyca.github.io/fideslang/): the first segment says
/// whose data it is (`user` for a natural person, `system` for the service's
/// own), each further segment narrows it. Categories form a tree, and
/// [`DataCategory::is_within`] is the tree's partial order: `user.contact.email`
/// is within `user.contact`, which is within `user`, and every category is within
/// itself. Retention rules, field permissions and masking policies name a
/// category and so cover everything beneath it.
///
/// Two layers of checking:
///
/// * [`DataCategory::from_str`](std::str::FromStr) checks syntax only: non-empty
///   segments of lower-case ASCII letters, digits and `_`, each starting with a
///   letter, at most [`MAX_CATEGORY_DEPTH`] segments and [`MAX_CATEGORY_LEN`] bytes. Any such path
///   is a valid category, so a host can name its own without ceremony.
/// * A [`Taxonomy`] is the set of categories a deployment recognises: the
///   built-in ones listed on [`DataCategory`]'s associated constants, plus custom
///   categories added with [`Taxonomy::add_custom`] beneath an existing parent.
///   [`Taxonomy::parse`] rejects anything else and suggests the nearest known
///   category, so a policy file that says `user.contact.emial` fails loudly
///   instead of silently matching nothing.
///
/// Categories under [`SPECIAL_CATEGORIES`] are the special categories of GDPR
/// Art. 9 (health, biometric, genetic, origin, beliefs, …) and criminal-offence
/// data of Art. 10; [`DataCategory::is_special`] tells them apart.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DataCategory(Cow<'static, str>);

/// Builds the built-in taxonomy: an associated constant per category and the
/// table behind [`Taxonomy::builtin`], from one list so they cannot drift.
macro_rules! builtin_categories {
    ($($const:ident = $path:literal, $desc:literal;)*) => {
        impl DataCategory {
            $(
                #[doc = concat!("`", $path, "`: ", $desc)]
                pub const $const: DataCategory = DataCategory(Cow::Borrowed($path));
            )*
        }

        pub(crate) const BUILTIN: &[(DataCategory, &str)] = &[$((DataCategory::$const, $desc),)*];
    };
}

builtin_categories! {
    SYSTEM = "system", "Data about the service itself rather than about a person.";
    SYSTEM_AUDIT = "system.audit", "Audit records of what was done to data, by whom and when.";
    SYSTEM_AUTHENTICATION = "system.authentication", "Keys, secrets and tokens the service itself authenticates with.";
    SYSTEM_OPERATIONS = "system.operations", "Data produced by running the service.";
    SYSTEM_OPERATIONS_LOG = "system.operations.log", "Application and infrastructure logs.";
    SYSTEM_OPERATIONS_METRICS = "system.operations.metrics", "Aggregated operational metrics.";
    SYSTEM_OPERATIONS_BACKUP = "system.operations.backup", "Backups of the service's data.";
    USER = "user", "Personal data: any information relating to an identified or identifiable natural person.";
    USER_ACCOUNT = "user.account", "The person's account with the service.";
    USER_ACCOUNT_USERNAME = "user.account.username", "Login name or handle.";
    USER_ACCOUNT_SETTINGS = "user.account.settings", "Preferences and settings of the account.";
    USER_AUTHORIZATION = "user.authorization", "What the person authenticates with.";
    USER_AUTHORIZATION_PASSWORD = "user.authorization.password", "Passwords and password hashes.";
    USER_AUTHORIZATION_CREDENTIALS = "user.authorization.credentials", "API tokens, access keys, one-time codes and other credentials.";
    USER_BEHAVIOR = "user.behavior", "What the person does: usage, browsing, purchases.";
    USER_BEHAVIOR_BROWSING_HISTORY = "user.behavior.browsing_history", "Pages and articles the person viewed.";
    USER_BEHAVIOR_PRODUCT_USAGE = "user.behavior.product_usage", "How the person uses the product.";
    USER_BIOMETRIC = "user.biometric", "Biometric data used to identify a person (Art. 9).";
    USER_CONTACT = "user.contact", "How to reach the person.";
    USER_CONTACT_EMAIL = "user.contact.email", "Email addresses.";
    USER_CONTACT_PHONE = "user.contact.phone", "Telephone numbers.";
    USER_CONTACT_ADDRESS = "user.contact.address", "Postal addresses.";
    USER_CONTACT_ADDRESS_STREET = "user.contact.address.street", "Street and house number.";
    USER_CONTACT_ADDRESS_CITY = "user.contact.address.city", "City or locality.";
    USER_CONTACT_ADDRESS_POSTAL_CODE = "user.contact.address.postal_code", "Postal or ZIP code.";
    USER_CONTACT_ADDRESS_COUNTRY = "user.contact.address.country", "Country.";
    USER_CONTENT = "user.content", "Content the person writes, sends or uploads.";
    USER_CONTENT_TICKET = "user.content.ticket", "Support tickets: subject, description, replies and notes.";
    USER_CONTENT_ATTACHMENT = "user.content.attachment", "Files attached to tickets and messages.";
    USER_CONTENT_CHAT = "user.content.chat", "Live chat transcripts.";
    USER_CONTENT_CALL_RECORDING = "user.content.call_recording", "Recordings and transcripts of support calls.";
    USER_CONTENT_SURVEY = "user.content.survey", "Answers to satisfaction surveys.";
    USER_CRIMINAL_RECORD = "user.criminal_record", "Criminal convictions and offences (Art. 10).";
    USER_DEMOGRAPHIC = "user.demographic", "Demographic attributes.";
    USER_DEMOGRAPHIC_DATE_OF_BIRTH = "user.demographic.date_of_birth", "Date of birth.";
    USER_DEMOGRAPHIC_GENDER = "user.demographic.gender", "Gender.";
    USER_DEMOGRAPHIC_LANGUAGE = "user.demographic.language", "Preferred language.";
    USER_DEMOGRAPHIC_RACIAL_ETHNIC_ORIGIN = "user.demographic.racial_ethnic_origin", "Racial or ethnic origin (Art. 9).";
    USER_DEMOGRAPHIC_POLITICAL_OPINION = "user.demographic.political_opinion", "Political opinions (Art. 9).";
    USER_DEMOGRAPHIC_RELIGIOUS_BELIEF = "user.demographic.religious_belief", "Religious or philosophical beliefs (Art. 9).";
    USER_DEMOGRAPHIC_SEXUAL_ORIENTATION = "user.demographic.sexual_orientation", "Sex life or sexual orientation (Art. 9).";
    USER_DEMOGRAPHIC_TRADE_UNION_MEMBERSHIP = "user.demographic.trade_union_membership", "Trade union membership (Art. 9).";
    USER_DEVICE = "user.device", "Data about the person's devices.";
    USER_DEVICE_IP_ADDRESS = "user.device.ip_address", "IP addresses.";
    USER_DEVICE_MAC_ADDRESS = "user.device.mac_address", "Hardware (MAC) addresses.";
    USER_DEVICE_DEVICE_ID = "user.device.device_id", "Device identifiers and serial numbers.";
    USER_DEVICE_COOKIE_ID = "user.device.cookie_id", "Cookie and session identifiers.";
    USER_DEVICE_USER_AGENT = "user.device.user_agent", "Browser and client user-agent strings.";
    USER_FINANCIAL = "user.financial", "Financial data.";
    USER_FINANCIAL_CARD = "user.financial.card", "Payment card numbers and details.";
    USER_FINANCIAL_BANK_ACCOUNT = "user.financial.bank_account", "Bank account numbers, IBANs and routing numbers.";
    USER_FINANCIAL_BILLING = "user.financial.billing", "Invoices, orders and billing history.";
    USER_GENETIC = "user.genetic", "Genetic data (Art. 9).";
    USER_GOVERNMENT_ID = "user.government_id", "Identifiers issued by a government.";
    USER_GOVERNMENT_ID_NATIONAL_ID = "user.government_id.national_id", "National identification and social security numbers.";
    USER_GOVERNMENT_ID_TAX_ID = "user.government_id.tax_id", "Tax identification numbers.";
    USER_GOVERNMENT_ID_PASSPORT = "user.government_id.passport", "Passport numbers.";
    USER_GOVERNMENT_ID_DRIVER_LICENSE = "user.government_id.driver_license", "Driving licence numbers.";
    USER_GOVERNMENT_ID_HEALTH_INSURANCE = "user.government_id.health_insurance", "Health insurance and health service numbers.";
    USER_HEALTH = "user.health", "Data concerning health (Art. 9).";
    USER_LOCATION = "user.location", "Where the person is or was.";
    USER_LOCATION_PRECISE = "user.location.precise", "Precise location such as GPS coordinates.";
    USER_LOCATION_IMPRECISE = "user.location.imprecise", "Approximate location such as city or region.";
    USER_NAME = "user.name", "The person's name.";
    USER_NAME_FIRST = "user.name.first", "Given name.";
    USER_NAME_LAST = "user.name.last", "Family name.";
    USER_UNIQUE_ID = "user.unique_id", "Identifiers a service assigns to the person.";
    USER_UNIQUE_ID_PSEUDONYMOUS = "user.unique_id.pseudonymous", "Pseudonymous identifiers that still single the person out.";
    USER_WORKPLACE = "user.workplace", "Employer, job title and work details.";
}

/// The roots of the special categories of personal data (GDPR Art. 9) and of
/// criminal-offence data (Art. 10). Everything within one of them is special.
pub const SPECIAL_CATEGORIES: &[DataCategory] = &[
    DataCategory::USER_BIOMETRIC,
    DataCategory::USER_CRIMINAL_RECORD,
    DataCategory::USER_DEMOGRAPHIC_POLITICAL_OPINION,
    DataCategory::USER_DEMOGRAPHIC_RACIAL_ETHNIC_ORIGIN,
    DataCategory::USER_DEMOGRAPHIC_RELIGIOUS_BELIEF,
    DataCategory::USER_DEMOGRAPHIC_SEXUAL_ORIENTATION,
    DataCategory::USER_DEMOGRAPHIC_TRADE_UNION_MEMBERSHIP,
    DataCategory::USER_GENETIC,
    DataCategory::USER_HEALTH,
];

impl DataCategory {
    /// Parses an owned string without copying it.
    pub fn from_string(s: String) -> Result<Self, Error> {
        check_syntax(&s)?;
        Ok(Self(Cow::Owned(s)))
    }

    /// The dotted path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path's segments, root first.
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.0.split('.')
    }

    /// How many segments the path has: 1 for a root such as `user`.
    pub fn depth(&self) -> usize {
        self.0.bytes().filter(|&b| b == b'.').count() + 1
    }

    /// The first segment: `user` or `system` for the built-in taxonomy.
    pub fn root(&self) -> &str {
        self.segments().next().unwrap_or_default()
    }

    /// The category one level up, or `None` for a root.
    pub fn parent(&self) -> Option<DataCategory> {
        let (parent, _) = self.0.rsplit_once('.')?;
        Some(match &self.0 {
            Cow::Borrowed(s) => Self(Cow::Borrowed(&s[..parent.len()])),
            Cow::Owned(_) => Self(Cow::Owned(parent.to_owned())),
        })
    }

    /// Every category from this one up to its root, this one first.
    pub fn ancestors(&self) -> impl Iterator<Item = DataCategory> {
        std::iter::successors(Some(self.clone()), DataCategory::parent)
    }

    /// The category one level down, named `segment`.
    pub fn child(&self, segment: &str) -> Result<DataCategory, Error> {
        Self::from_string(format!("{}.{segment}", self.0))
    }

    /// Whether this category is `parent` or lies beneath it.
    ///
    /// The tree's partial order: reflexive, antisymmetric and transitive.
    /// `user.contact.email` is within `user.contact` and `user`, but not within
    /// `user.contact.e` or `user.con`.
    pub fn is_within(&self, parent: &DataCategory) -> bool {
        match self.0.strip_prefix(parent.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('.'),
            None => false,
        }
    }

    /// Whether this is personal data, i.e. within `user`.
    pub fn is_personal(&self) -> bool {
        self.is_within(&Self::USER)
    }

    /// Whether this is a special category (Art. 9) or criminal-offence data (Art. 10).
    pub fn is_special(&self) -> bool {
        SPECIAL_CATEGORIES.iter().any(|root| self.is_within(root))
    }
}

fn check_syntax(s: &str) -> Result<(), Error> {
    if is_well_formed(s.as_bytes()) {
        Ok(())
    } else {
        Err(diagnose(s))
    }
}

/// Whether `s` is a well-formed data category, in one pass over the bytes
/// without allocating: the hot path for valid input, here and in the audit
/// log's decoder. Not part of the stable API.
#[doc(hidden)]
#[inline]
pub fn is_well_formed_category(s: &str) -> bool {
    is_well_formed(s.as_bytes())
}

/// One pass over the bytes: the hot path for valid input.
#[inline]
fn is_well_formed(bytes: &[u8]) -> bool {
    let mut depth = 1;
    let mut at_segment_start = true;
    for &byte in bytes {
        match byte {
            b'a'..=b'z' => at_segment_start = false,
            b'0'..=b'9' | b'_' if !at_segment_start => {}
            b'.' if !at_segment_start => {
                depth += 1;
                at_segment_start = true;
            }
            _ => return false,
        }
    }
    !at_segment_start && depth <= MAX_CATEGORY_DEPTH && bytes.len() <= MAX_CATEGORY_LEN
}

/// Says what is wrong with a category that [`is_well_formed`] refused.
fn diagnose(s: &str) -> Error {
    let fail = |reason: String| Error::InvalidCategory {
        input: echo(s),
        reason,
    };
    if s.is_empty() {
        return fail("a category cannot be empty".into());
    }
    if s.len() > MAX_CATEGORY_LEN {
        return fail(format!("longer than {MAX_CATEGORY_LEN} bytes"));
    }
    for (index, segment) in s.split('.').enumerate() {
        let position = index + 1;
        if index == MAX_CATEGORY_DEPTH {
            return fail(format!("more than {MAX_CATEGORY_DEPTH} segments"));
        }
        match segment.bytes().next() {
            None => return fail(format!("segment {position} is empty")),
            Some(b'a'..=b'z') => {}
            Some(_) => {
                return fail(format!(
                    "segment {position} ({:?}) must start with a lower-case letter",
                    echo(segment)
                ));
            }
        }
        if let Some(bad) = segment
            .chars()
            .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_'))
        {
            return fail(format!(
                "segment {position} ({:?}) contains {bad:?}; use lower-case letters, digits and _",
                echo(segment)
            ));
        }
    }
    // Unreachable while the two checks agree, which a property test pins.
    fail("not a well-formed category".into())
}

impl FromStr for DataCategory {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        check_syntax(s)?;
        Ok(Self(Cow::Owned(s.to_owned())))
    }
}

impl TryFrom<String> for DataCategory {
    type Error = Error;

    fn try_from(s: String) -> Result<Self, Error> {
        Self::from_string(s)
    }
}

impl TryFrom<&str> for DataCategory {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self, Error> {
        s.parse()
    }
}

impl AsRef<str> for DataCategory {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for DataCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for DataCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataCategory({})", self.0)
    }
}

impl serde::Serialize for DataCategory {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for DataCategory {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::from_string(s).map_err(serde::de::Error::custom)
    }
}

/// What a [`Taxonomy`] knows about one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryInfo {
    /// One line saying what the category holds.
    pub description: Cow<'static, str>,
    /// `true` for categories added with [`Taxonomy::add_custom`].
    pub custom: bool,
}

/// The set of categories a deployment recognises.
///
/// Starts from the built-in tree ([`Taxonomy::builtin`], also [`Default`]);
/// custom categories extend it one level at a time beneath an existing parent,
/// so the tree never has holes.
///
/// ```
/// use custodia_core::{DataCategory, Taxonomy};
///
/// let mut taxonomy = Taxonomy::builtin();
/// let loyalty = "user.account.loyalty_number".parse::<DataCategory>()?;
/// taxonomy.add_custom(loyalty.clone(), "Loyalty programme membership number")?;
///
/// assert_eq!(taxonomy.parse("user.account.loyalty_number")?, loyalty);
/// assert!(loyalty.is_within(&DataCategory::USER_ACCOUNT));
///
/// let typo = taxonomy.parse("user.contact.emial").unwrap_err();
/// assert_eq!(
///     typo.to_string(),
///     r#"unknown data category "user.contact.emial" (did you mean user.contact.email?)"#
/// );
/// # Ok::<(), custodia_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    entries: BTreeMap<DataCategory, CategoryInfo>,
}

impl Default for Taxonomy {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Taxonomy {
    /// The built-in categories: one per associated constant of [`DataCategory`].
    pub fn builtin() -> Self {
        let entries = BUILTIN
            .iter()
            .map(|(category, description)| {
                let info = CategoryInfo {
                    description: Cow::Borrowed(*description),
                    custom: false,
                };
                (category.clone(), info)
            })
            .collect();
        Self { entries }
    }

    /// Adds a custom category beneath a category already in the taxonomy.
    ///
    /// Adding a category that is already there only updates its description.
    /// A new root (a category with no parent) is refused: the roots are `user`
    /// and `system`, and everything a helpdesk holds fits under one of them.
    pub fn add_custom(
        &mut self,
        category: DataCategory,
        description: impl Into<Cow<'static, str>>,
    ) -> Result<(), Error> {
        let description = description.into();
        if let Some(info) = self.entries.get_mut(&category) {
            info.description = description;
            return Ok(());
        }
        match category.parent() {
            Some(parent) if self.entries.contains_key(&parent) => {}
            Some(parent) => return Err(Error::MissingParent { category, parent }),
            None => {
                return Err(Error::InvalidCategory {
                    input: echo(category.as_str()),
                    reason: "a custom category needs a parent; the roots are user and system"
                        .into(),
                });
            }
        }
        let info = CategoryInfo {
            description,
            custom: true,
        };
        self.entries.insert(category, info);
        Ok(())
    }

    /// Whether the taxonomy contains `category`.
    pub fn contains(&self, category: &DataCategory) -> bool {
        self.entries.contains_key(category)
    }

    /// What the taxonomy says about `category`.
    pub fn get(&self, category: &DataCategory) -> Option<&CategoryInfo> {
        self.entries.get(category)
    }

    /// Parses `s` and checks it is in the taxonomy.
    ///
    /// An unknown category gets [`Error::UnknownCategory`] with the nearest known
    /// category as a suggestion when one is within a few typing mistakes.
    pub fn parse(&self, s: &str) -> Result<DataCategory, Error> {
        let category: DataCategory = s.parse()?;
        if let Some((known, _)) = self.entries.get_key_value(&category) {
            return Ok(known.clone());
        }
        Err(Error::UnknownCategory {
            input: echo(s),
            suggestion: self.nearest(s),
        })
    }

    /// Every category in the taxonomy, in path order (parents before children).
    pub fn iter(&self) -> impl Iterator<Item = (&DataCategory, &CategoryInfo)> {
        self.entries.iter()
    }

    /// How many categories the taxonomy holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the taxonomy is empty (never true for one built from [`Taxonomy::builtin`]).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `category` and every known category beneath it, in path order.
    pub fn descendants<'a>(
        &'a self,
        category: &'a DataCategory,
    ) -> impl Iterator<Item = &'a DataCategory> + 'a {
        self.entries
            .range(category.clone()..)
            .map(|(c, _)| c)
            .take_while(move |c| c.as_str().starts_with(category.as_str()))
            .filter(move |c| c.is_within(category))
    }

    fn nearest(&self, s: &str) -> Option<DataCategory> {
        let known = suggest(s, self.entries.keys().map(DataCategory::as_str))?;
        self.entries.keys().find(|k| k.as_str() == known).cloned()
    }
}

/// The entry of `known` nearest to `input`, if within a few typing mistakes:
/// up to one per four characters, at most three in all (the first of equally
/// near entries wins). The "did you mean" of every Custodia parser; not part
/// of the stable API.
#[doc(hidden)]
pub fn suggest<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let budget = (input.chars().count() / 4).clamp(1, 3);
    known
        .into_iter()
        .map(|k| (edit_distance(input, k), k))
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// Damerau-free Levenshtein distance, two rows at a time, over at most the
/// first 256 characters of each side (so a pasted file costs no quadratic time).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().take(256).collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().take(256).enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(s: &str) -> DataCategory {
        s.parse().unwrap()
    }

    #[test]
    fn builtin_tree_has_no_holes() {
        let taxonomy = Taxonomy::builtin();
        for (category, _) in taxonomy.iter() {
            check_syntax(category.as_str()).unwrap();
            if let Some(parent) = category.parent() {
                assert!(taxonomy.contains(&parent), "{category} has no parent");
            } else {
                assert!(matches!(category.as_str(), "user" | "system"), "{category}");
            }
        }
        assert_eq!(taxonomy.len(), BUILTIN.len(), "duplicate built-in entries");
    }

    #[test]
    fn is_within_respects_segment_boundaries() {
        let email = DataCategory::USER_CONTACT_EMAIL;
        assert!(email.is_within(&DataCategory::USER_CONTACT));
        assert!(email.is_within(&DataCategory::USER));
        assert!(email.is_within(&email));
        assert!(!email.is_within(&cat("user.contact.e")));
        assert!(!email.is_within(&cat("user.con")));
        assert!(!DataCategory::USER.is_within(&email));
        assert!(!email.is_within(&DataCategory::SYSTEM));
    }

    #[test]
    fn syntax_errors_say_what_is_wrong() {
        let cases = [
            ("", "empty"),
            ("user..email", "segment 2 is empty"),
            ("user.", "segment 2 is empty"),
            (
                "User.contact",
                "segment 1 (\"User\") must start with a lower-case letter",
            ),
            ("user.1st", "must start with a lower-case letter"),
            ("user.e-mail", "contains '-'"),
            ("user.contact.émail", "segment 3 (\"émail\") must start"),
            ("user.contact.em@il", "contains '@'"),
        ];
        for (input, expected) in cases {
            let err = input.parse::<DataCategory>().unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
        let deep = vec!["a"; MAX_CATEGORY_DEPTH + 1].join(".");
        assert!(deep.parse::<DataCategory>().is_err());
        assert!(
            vec!["a"; MAX_CATEGORY_DEPTH]
                .join(".")
                .parse::<DataCategory>()
                .is_ok()
        );
        let long = format!("user.{}", "x".repeat(MAX_CATEGORY_LEN));
        assert!(
            long.parse::<DataCategory>()
                .unwrap_err()
                .to_string()
                .contains("longer")
        );
    }

    #[test]
    fn parent_and_ancestors_walk_up() {
        let street = DataCategory::USER_CONTACT_ADDRESS_STREET;
        let chain: Vec<String> = street.ancestors().map(|c| c.to_string()).collect();
        assert_eq!(
            chain,
            [
                "user.contact.address.street",
                "user.contact.address",
                "user.contact",
                "user"
            ]
        );
        assert_eq!(cat("system.x").parent(), Some(DataCategory::SYSTEM));
        assert_eq!(DataCategory::USER.parent(), None);
        assert_eq!(street.depth(), 4);
        assert_eq!(street.root(), "user");
    }

    #[test]
    fn special_categories_include_descendants() {
        assert!(DataCategory::USER_HEALTH.is_special());
        assert!(cat("user.health.diagnosis").is_special());
        assert!(DataCategory::USER_CRIMINAL_RECORD.is_special());
        assert!(!DataCategory::USER_CONTACT_EMAIL.is_special());
        assert!(!DataCategory::USER_DEMOGRAPHIC.is_special());
        assert!(!DataCategory::SYSTEM_AUDIT.is_personal());
        assert!(DataCategory::USER_DEVICE_IP_ADDRESS.is_personal());
    }

    #[test]
    fn custom_categories_need_a_known_parent() {
        let mut taxonomy = Taxonomy::builtin();
        let orphan = cat("user.pets.name");
        let err = taxonomy
            .add_custom(orphan.clone(), "Pet names")
            .unwrap_err();
        assert_eq!(
            err,
            Error::MissingParent {
                category: orphan.clone(),
                parent: cat("user.pets")
            }
        );
        taxonomy.add_custom(cat("user.pets"), "Pets").unwrap();
        taxonomy.add_custom(orphan.clone(), "Pet names").unwrap();
        assert!(taxonomy.get(&orphan).unwrap().custom);
        assert!(taxonomy.add_custom(cat("acme"), "New root").is_err());
        // Re-adding a built-in only redescribes it; it stays built-in.
        taxonomy.add_custom(DataCategory::USER, "People").unwrap();
        assert!(!taxonomy.get(&DataCategory::USER).unwrap().custom);
    }

    #[test]
    fn unknown_categories_get_a_suggestion_only_when_close() {
        let taxonomy = Taxonomy::builtin();
        match taxonomy.parse("user.contact.phon") {
            Err(Error::UnknownCategory { suggestion, .. }) => {
                assert_eq!(suggestion, Some(DataCategory::USER_CONTACT_PHONE));
            }
            other => panic!("{other:?}"),
        }
        match taxonomy.parse("vendor.secret.sauce") {
            Err(Error::UnknownCategory { suggestion, .. }) => assert_eq!(suggestion, None),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            taxonomy.parse("user..x"),
            Err(Error::InvalidCategory { .. })
        ));
    }

    #[test]
    fn descendants_stay_inside_the_subtree() {
        let taxonomy = Taxonomy::builtin();
        let contact: Vec<&str> = taxonomy
            .descendants(&DataCategory::USER_CONTACT)
            .map(DataCategory::as_str)
            .collect();
        assert!(contact.contains(&"user.contact"));
        assert!(contact.contains(&"user.contact.address.street"));
        assert!(contact.iter().all(|c| c.starts_with("user.contact")));
        assert!(!contact.contains(&"user.content"));
    }

    proptest::proptest! {
        #[test]
        fn fast_check_agrees_with_the_diagnosis(text in "[a-z0-9_.A-]{0,40}") {
            let diagnosis = diagnose(&text);
            let fast = is_well_formed(text.as_bytes());
            let explained = !diagnosis.to_string().contains("not a well-formed category");
            proptest::prop_assert_eq!(fast, !explained, "{}", diagnosis);
        }
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "abd"), 1);
        assert_eq!(edit_distance("abc", "ab"), 1);
        assert_eq!(edit_distance("ab", "abc"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
