//! wt-claims2: `Region::is_eea` says "Whether the region is in the European
//! Economic Area (the EU plus Iceland, Liechtenstein and Norway), where the
//! GDPR applies directly". The EU's outermost regions have ISO 3166-1 codes
//! of their own (Art. 349/355(1) TFEU: Guadeloupe, French Guiana, Martinique,
//! Réunion, Mayotte, Saint-Martin) and Åland (Art. 355(4) TFEU) is part of
//! Finland: all are EU territory where the GDPR applies, yet `is_eu` and
//! `is_eea` answer false for them, so a transfer from Germany to Réunion is
//! treated as a transfer to a third country.
use custodia_core::Region;

#[test]
fn eu_outermost_regions_and_aland_are_in_the_eea() {
    for code in ["GP", "GF", "MQ", "RE", "YT", "MF", "AX"] {
        let region = Region::custom(code).unwrap();
        assert!(region.is_eea(), "{code} is EU territory, but is_eea() is false");
        assert!(
            Region::EU.covers(region),
            "{code} is EU territory, but Region::EU does not cover it"
        );
    }
}
