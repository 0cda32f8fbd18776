//! The entity pass on ticket-like sentences: what it finds, and what it
//! leaves alone.

use crate::{Detector, Kind};

/// The `(kind, text)` pairs of the entity kinds found in `text`.
fn entities(text: &str) -> Vec<(String, String)> {
    Detector::new()
        .detect(text)
        .into_iter()
        .filter(|f| {
            matches!(
                f.kind,
                Kind::Person | Kind::Address | Kind::Organization | Kind::Postcode
            )
        })
        .map(|f| (f.kind.as_str().to_owned(), text[f.range()].to_owned()))
        .collect()
}

/// The values of the findings of `kind` in `text`.
fn of_kind(text: &str, kind: &str) -> Vec<String> {
    entities(text)
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, v)| v)
        .collect()
}

fn person(text: &str) -> Vec<String> {
    of_kind(text, "PERSON")
}

/// No text of `texts` names a person.
fn no_person(texts: &[&str]) {
    for text in texts {
        assert_eq!(person(text), Vec::<String>::new(), "{text:?}");
    }
}

/// Indian, Fijian, Tongan, Southern African, Māori and Korean names
/// (Python Faker's lists and the hand-written ones of `scripts/names-data`).
#[test]
fn people_of_the_wider_gazetteer() {
    assert_eq!(
        person("Move request: Aditi Kulkarni is relocating from desk 4.12"),
        ["Aditi Kulkarni"]
    );
    assert_eq!(
        person("Loaner laptop issued to Josaia Vakaloloma, due back 30 June."),
        ["Josaia Vakaloloma"]
    );
    assert_eq!(person("It won't dock. Thanks, Losaline"), ["Losaline"]);
    assert_eq!(
        person("Name: Seo-yeon Park\nCompany: Hanbit"),
        ["Seo-yeon Park"]
    );
    assert_eq!(
        person("Escalated by Thabo Mahlangu this morning."),
        ["Thabo Mahlangu"]
    );
    // Languages, editors and fonts that are also names in those lists, and
    // a job title before a name, are no one.
    no_person(&["The Danish team uses Geany and the Lohit fonts."]);
    assert_eq!(
        person("Contractor Pieter van der Berg starts Monday."),
        ["Pieter van der Berg"]
    );
}

#[test]
fn a_greeted_lower_case_common_word_name() {
    assert_eq!(
        person("Hi grace, the grace period on the license ends Friday."),
        ["grace"]
    );
    no_person(&[
        "hi love, the printer is down again",
        "Hi honey, can you reset it?",
        "Hi grace period ends Friday.",
        "hi all, any news?",
    ]);
}

#[test]
fn a_form_field_for_a_person() {
    assert_eq!(
        person("requester: Haruka Morimoto\ncompany: Brightwater Fibre Pty Ltd"),
        ["Haruka Morimoto"]
    );
    assert_eq!(
        person("Requester: SEO-YEON PARK\nDept: R&D"),
        ["SEO-YEON PARK"]
    );
    assert_eq!(
        person("Signed for by: Teuila Leaupepe\nTime: 14:26"),
        ["Teuila Leaupepe"]
    );
    assert_eq!(
        person("Account holder: Dilani Wickramasinghe\nService address: 8/42 Fitzroy Street"),
        ["Dilani Wickramasinghe"]
    );
    assert_eq!(
        person("Cc: ROSE ADEYEMI; MARK BRENNAN; SERVICE DESK"),
        ["ROSE ADEYEMI", "MARK BRENNAN"]
    );
    assert_eq!(
        person("To: Tevita Fifita, Mark Otieno\nSubject: x"),
        ["Tevita Fifita", "Mark Otieno"]
    );
    // Not on a line that is no header's list.
    no_person(&["Totals: ACME, MARK DOWN\n"]);
    assert_eq!(
        person("PLEASE CALL MRS OKONJO ABOUT THE LATE FEE"),
        ["OKONJO"]
    );
    no_person(&["Migrate MS SQL and MS ACCESS databases.", "CALL DR ABC NOW"]);
    // Not without the colon, nor a team or a firm in the field.
    no_person(&[
        "The requester Portal Login page is down.",
        "Requester: Service Desk\nPriority: P2",
        "Reported by: Finance Team",
        "Customer: Brightwater Fibre\nSite: Melbourne",
    ]);
}

#[test]
fn a_chat_transcripts_speakers() {
    assert_eq!(
        person("Chat started 14:03\nAgent Mark: Hi, thanks for contacting Helpdesk."),
        ["Mark"]
    );
    assert_eq!(person("Agent (Dawn): Hi, how can I help?"), ["Dawn"]);
    assert_eq!(
        person("10:03 Agent Hunter: Sorry to hear that."),
        ["Hunter"]
    );
    assert_eq!(
        person("Customer (Jarrah Collins): my internet dropped"),
        ["Jarrah Collins"]
    );
    // Not a role mid-line, nor a name with no colon after it.
    no_person(&[
        "Ask the Agent Mark: it is a template.",
        "Agent Hunter mode is on.",
        "Our Customer Grace period: 30 days.",
    ]);
}

#[test]
fn a_tables_person_and_postcode_columns() {
    let text = "last_name,first_name,site\nMakoa,Kealii,Honolulu\nFaleolo,Losa,Auckland";
    assert_eq!(person(text), ["Makoa", "Kealii", "Faleolo", "Losa"]);
    let text = "Name,Email,Postcode\r\nRavi Shankar,ravi.s@example.com,560034\r\nHoang Minh Tuan,t@example.com, 700000 ";
    assert_eq!(person(text), ["Ravi Shankar", "Hoang Minh Tuan"]);
    assert_eq!(of_kind(text, "POSTCODE"), ["560034", "700000"]);
    // A firm, a number or an empty cell in a person's column is no one;
    // a row of another shape ends the table.
    let text = "name,email\nAcme Pty Ltd,a@example.com\nR2D2,r@example.com\n,x@example.com\nthe end of the table\nJohn Smith,j@example.com";
    assert_eq!(person(text), ["John Smith"]);
    // No header, or a header with no person's column: nothing of the
    // rows' cells by their column.
    no_person(&[
        "ticket_id,category,status,queue\nINC-40812,Hardware,Open,EMEA Desk",
        "Hi team, Makoa,Kealii is the login\nMakoa,Kealii",
        "site,asset\nMakoa,Kealii",
        "Name, Email\nPlease check, thanks",
    ]);
}

#[test]
fn a_tables_quoted_cells() {
    // A quoted cell holds commas; a doubled quote is one quote.
    let text = "ticket_id,requester,address,postcode\n48821,Chloe Nguyen,\"Level 2, 3 Help Street, Chatswood NSW 2067\",2067\n48822,\"Sandy Whitehorse\",\"88 \"\"Summer\"\" Street\",2800";
    assert_eq!(person(text), ["Chloe Nguyen", "Sandy Whitehorse"]);
    assert_eq!(of_kind(text, "POSTCODE"), ["2067", "2800"]);
    // A quote left open, text after a closing quote, or a quote inside an
    // unquoted cell ends the table.
    for row in [
        "48823,\"Will Bishop,x,2000",
        "48823,\"Will Bishop\"x,y,2000",
        "48823,Will \"Bish\" op,y,2000",
    ] {
        let text = format!("ticket_id,requester,address,postcode\n{row}\n48824,Jane Roe,z,3000");
        assert_eq!(of_kind(&text, "POSTCODE"), Vec::<String>::new(), "{row:?}");
    }
}

#[test]
fn a_given_name_spoken_to() {
    assert_eq!(
        person("Will can you update the license count? I will approve."),
        ["Will"]
    );
    assert_eq!(person("Thanks. Mark, can you check the printer?"), ["Mark"]);
    assert_eq!(person("Summer: can you reshare the deck?"), ["Summer"]);
    assert_eq!(person("Grace please reset it."), ["Grace"]);
    // Not mid-sentence, not a place or a month, not a word that is no name.
    no_person(&[
        "The will can you believe it be read today?",
        "Victoria can you believe the weather",
        "Also can you reset it?",
        "In May can you send it?",
        "Will you approve it?",
    ]);
}

#[test]
fn organisations_in_capitals() {
    let orgs = |text: &str| of_kind(text, "ORGANIZATION");
    assert_eq!(
        orgs("RE: URGENT - BRIGHTWATER LOGISTICS PTY LTD PAYROLL EXPORT FAILING"),
        ["BRIGHTWATER LOGISTICS PTY LTD"]
    );
    assert_eq!(
        orgs("BILLING CONTACT: KOFI ASANTE-MENSAH / ASANTE HOLDINGS LIMITED"),
        ["ASANTE HOLDINGS LIMITED"]
    );
    assert_eq!(orgs("PAY ACME WIDGETS INC. TODAY"), ["ACME WIDGETS INC."]);
    // An incident's number is no `Inc`.
    assert_eq!(
        orgs("SLA BREACH WARNING ON TICKET INC-40812"),
        Vec::<String>::new()
    );
    // `LIMITED` in capitals after a word that is no firm's is a word.
    assert_eq!(
        orgs("STORAGE SPACE LIMITED, PLEASE CLEAN UP. FOR A LIMITED TIME"),
        Vec::<String>::new()
    );
}

#[test]
fn a_given_name_before_its_department() {
    assert_eq!(
        person("Please forward to Frank in procurement. Frankly the quote is high."),
        ["Frank"]
    );
    assert_eq!(
        person("I spoke to Grace from Payroll yesterday."),
        ["Grace"]
    );
    assert_eq!(person("Can Will in IT reset it?"), ["Will"]);
    // Not a month, a place, a brand, a surname alone or a heading.
    no_person(&[
        "Budget closes May in accounts.",
        "Victoria in Sales is ahead.",
        "Ford from Sales called.",
        "Smith in procurement said no.",
        "Mark in ACCOUNTS view.",
    ]);
}

#[test]
fn people_from_the_gazetteer_and_context() {
    assert_eq!(person("Hi Sarah, the printer is jammed again."), ["Sarah"]);
    assert_eq!(person("Regards,\nTom Becker"), ["Tom Becker"]);
    assert_eq!(
        person("I spoke with Priya Ramaswamy yesterday."),
        ["Priya Ramaswamy"]
    );
    assert_eq!(
        person("My name is Tama Ngata and I cannot log in."),
        ["Tama Ngata"]
    );
    assert_eq!(
        person("Please ask Dr Oyelaran-Bakare to call me."),
        ["Oyelaran-Bakare"]
    );
    assert_eq!(
        person("Wei Li and Aroha Parata both lost access."),
        ["Wei Li", "Aroha Parata"]
    );
    assert_eq!(person("Thanks Grace!"), ["Grace"]);
    assert_eq!(person("cc Will"), ["Will"]);
    assert_eq!(
        person("Contact: Ludwig van Beethoven"),
        ["Ludwig van Beethoven"]
    );
    assert_eq!(person("John F. Kennedy called."), ["John F. Kennedy"]);
    assert_eq!(person("Sarah's laptop will not boot."), ["Sarah"]);
}

#[test]
fn common_words_and_places_need_context() {
    assert!(person("Will the update fix this? May I ask when?").is_empty());
    assert!(person("Mark as resolved. Bill the client for March.").is_empty());
    assert!(person("Our office in Victoria has no internet; Grace period ends soon.").is_empty());
    assert!(person("Windows Server 2019 and Microsoft Teams are down.").is_empty());
    assert!(person("Jenkins build failed on the main branch.").is_empty());
    assert!(person("See https://example.com/Sarah/profile and Sarah.Jones@example.com").is_empty());
}

#[test]
fn addresses_with_localities_states_and_postcodes() {
    let found = |t: &str| of_kind(t, "ADDRESS");
    assert_eq!(
        found("Our office at 14 Harbour St, Wellington 6011 is closed."),
        ["14 Harbour St, Wellington 6011"]
    );
    assert_eq!(
        found("Ship to 221B Baker Street, London NW1 6XE please"),
        ["221B Baker Street, London NW1 6XE"]
    );
    assert_eq!(
        found("Send it to Unit 4, 12 George St, Sydney NSW 2000."),
        ["Unit 4, 12 George St, Sydney NSW 2000"]
    );
    assert_eq!(
        found("at 4/12 Queen Rd, Auckland"),
        ["4/12 Queen Rd, Auckland"]
    );
    assert_eq!(
        found("1600 Pennsylvania Avenue, Washington, DC 20500"),
        ["1600 Pennsylvania Avenue, Washington, DC 20500"]
    );
    assert_eq!(
        found("100 King Street West, Toronto, ON M5X 1A9"),
        ["100 King Street West, Toronto, ON M5X 1A9"]
    );
    assert_eq!(
        found("Apt 5B, 77 Main St, Springfield, IL 62704-1234"),
        ["Apt 5B, 77 Main St, Springfield, IL 62704-1234"]
    );
    assert_eq!(
        found("12 Grafton Street, Dublin 2"),
        ["12 Grafton Street, Dublin 2"]
    );
    assert_eq!(
        found("Musterstraße 12a, 10115 Berlin"),
        ["Musterstraße 12a, 10115 Berlin"]
    );
    assert_eq!(found("Berliner Straße 5"), ["Berliner Straße 5"]);
    assert!(found("We have 3 Windows Servers and 12 Main offices.").is_empty());
    assert!(found("Offering 3 licences.").is_empty());
}

#[test]
fn organisations_by_legal_form() {
    let found = |t: &str| of_kind(t, "ORGANIZATION");
    assert_eq!(
        found("Invoice from Acme Logistics Pty Ltd is overdue."),
        ["Acme Logistics Pty Ltd"]
    );
    assert_eq!(
        found("Müller Bau GmbH & Co. KG called."),
        ["Müller Bau GmbH & Co. KG"]
    );
    assert_eq!(found("Thanks, Initech LLC"), ["Initech LLC"]);
    assert_eq!(found("Hi Kiwi Farms Limited team"), ["Kiwi Farms Limited"]);
    assert_eq!(
        found("the Royal Bank of Scotland plc"),
        ["Royal Bank of Scotland plc"]
    );
    assert!(found("Ltd edition, limited stock").is_empty());
    // Irish forms; a comma before `Inc.`.
    assert_eq!(
        found("Please bill Harbour Analytics DAC for the audit."),
        ["Harbour Analytics DAC"]
    );
    assert_eq!(
        found("Ashgrove Software, Inc. wants a report."),
        ["Ashgrove Software, Inc."]
    );
    assert!(found("We use Dell, Intel and AMD parts.").is_empty());
}

#[test]
fn organisations_are_detected_but_kept_by_default() {
    use crate::{MaskPolicy, Masker, Strategy};
    let text = "Tom Becker from Initech LLC called.";
    let masked = Masker::new(Detector::new()).mask(text).unwrap();
    assert_eq!(masked.text, "[PERSON] from Initech LLC called.");
    let policy = MaskPolicy::new(Strategy::Redact).with(Kind::Organization, Strategy::Redact);
    let masked = Masker::new(Detector::new())
        .with_policy(policy)
        .unwrap()
        .mask(text)
        .unwrap();
    assert_eq!(masked.text, "[PERSON] from [ORGANIZATION] called.");
}

#[test]
fn host_recognizers_are_checked_and_merged() {
    use std::sync::Arc;

    use crate::{Finding, Recognizer};

    /// Reports a good span, spans that cut a character or run past the end,
    /// and a NaN score.
    struct Faulty;
    impl Recognizer for Faulty {
        fn name(&self) -> &str {
            "faulty"
        }
        fn recognize(&self, text: &str, findings: &mut Vec<Finding>) {
            let f = |start, end, score: f32| Finding {
                kind: Kind::custom("CODE").unwrap(),
                start,
                end,
                score,
                recognizer: "faulty".into(),
            };
            findings.push(f(0, 4, 0.9));
            findings.push(f(5, 7, 0.9)); // inside `ü`
            findings.push(f(0, text.len() + 10, 0.9));
            findings.push(f(4, 2, 0.9));
            findings.push(f(0, 3, f32::NAN));
        }
    }
    let mut detector = Detector::new();
    detector.add_recognizer(Arc::new(Faulty));
    let text = "code\u{fc}ber";
    let found = detector.detect(text);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].start, found[0].end, found[0].kind.as_str()),
        (0, 4, "CODE")
    );
    // Invalid UTF-8: each valid stretch, in input offsets.
    let found = detector.detect_bytes(b"\xffcode", None);
    assert_eq!((found[0].start, found[0].end), (1, 5));
    assert!(format!("{detector:?}").contains("faulty"));
}

#[test]
fn a_person_before_an_address_comes_out_in_order() {
    let text = "Sarah Sarah Straße 0";
    let found = Detector::new().detect(text);
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.kind.as_str(), &text[f.range()]))
        .collect();
    assert_eq!(got, [("PERSON", "Sarah"), ("ADDRESS", "Sarah Straße 0")]);
}

#[test]
fn the_scanner_stops_for_every_capital_at_every_alignment() {
    // ASCII capitals (the scanner skips `Xx` words after the pass has read
    // them), `B` and `J` (which it dispatches), and a non-ASCII capital
    // (the lead byte of a multi-byte character).
    for name in ["Sarah Jones", "Jürgen Becker", "Bob Smith", "Émile Durand"] {
        for pad in 0..17 {
            let text = format!("{} spoke to {name} today", "x".repeat(pad));
            assert_eq!(person(&text), [name], "{text:?}");
        }
    }
}

#[test]
fn places_that_start_with_a_name_are_no_people() {
    no_person(&[
        "He drove back from the Hunter Valley on Sunday.",
        "The Victoria Park office is closed.",
        "Our Rose Bay branch needs a new router.",
        "The Apple Store on George Street has the phones.",
        "Asia Pacific sales are up.",
    ]);
    assert_eq!(person("Ask Sarah Jones about it."), ["Sarah Jones"]);
}

#[test]
fn capitalised_particles_titles_and_greetings() {
    assert_eq!(
        person("Kia ora koutou, this is Aroha Te Whata from Rotorua."),
        ["Aroha Te Whata"]
    );
    assert_eq!(
        person("Customer Trần Thị Lan called twice."),
        ["Trần Thị Lan"]
    );
    assert_eq!(
        person("Prof. Alistair Grant can't project."),
        ["Alistair Grant"]
    );
    assert_eq!(person("Hi Sipho, thanks for the call."), ["Sipho"]);
    assert_eq!(person("Hi Printer"), Vec::<String>::new());
}

#[test]
fn organisations_with_particles_ampersands_and_a_final_full_stop() {
    let orgs = |text: &str| of_kind(text, "ORGANIZATION");
    assert_eq!(
        orgs("Contractor from Van der Berg Engineering B.V. needs Wi-Fi."),
        ["Van der Berg Engineering B.V."]
    );
    assert_eq!(
        orgs("Called Victoria Lang at Lang & Partners Solicitors LLP today."),
        ["Lang & Partners Solicitors LLP"]
    );
    assert_eq!(
        person("Buongiorno, sono Giulia Bianchi di Ferrante Arredamenti S.p.A. oggi"),
        ["Giulia Bianchi"]
    );
    assert_eq!(
        orgs("Both work at Crescent Pharmacy Ltd."),
        ["Crescent Pharmacy Ltd"]
    );
    assert_eq!(
        orgs("A charge from Cloudline Hosting Inc.."),
        ["Cloudline Hosting Inc."]
    );
    assert_eq!(
        orgs("Vendor: Bluegum Software Pty. Ltd., Sydney"),
        ["Bluegum Software Pty. Ltd."]
    );
}

#[test]
fn addresses_with_units_after_the_street_eircodes_and_french_streets() {
    let addresses = |text: &str| of_kind(text, "ADDRESS");
    assert_eq!(
        addresses(
            "Please cancel the order to 88 Rue du Petit-Champlain, Québec, QC G1K 4H4, the client moved."
        ),
        ["88 Rue du Petit-Champlain, Québec, QC G1K 4H4"]
    );
    assert_eq!(
        addresses("Ship to 12 Avenue de la Gare, Montréal, QC H3B 2Y5."),
        ["12 Avenue de la Gare, Montréal, QC H3B 2Y5"]
    );
    assert_eq!(
        addresses("Send the laptop to 310-1188 West Pender Street, Vancouver, BC V6E 0A2. Thanks"),
        ["310-1188 West Pender Street, Vancouver, BC V6E 0A2"]
    );
    assert_eq!(
        addresses("Order 12345678 Pender Street, Vancouver, BC V6E 0A2."),
        Vec::<String>::new()
    );
    assert_eq!(
        addresses("I have Apartment 12, The Maltings, Bowling Green, Galway H91 C6KP."),
        ["Apartment 12, The Maltings, Bowling Green, Galway H91 C6KP"]
    );
    assert_eq!(
        addresses("Shipping to: Apt 12, The Maltings, Bow Street, Dublin 7, D07 X2K4, Ireland."),
        ["Apt 12, The Maltings, Bow Street, Dublin 7, D07 X2K4"]
    );
    // No unit, or nothing after the street: no address without a number.
    assert_eq!(
        addresses(
            "The Maltings, Bow Street, Dublin 7, D07 X2K4 and Apt 12, The Maltings, Bow Street."
        ),
        Vec::<String>::new()
    );
    // Streets known by their name alone need no type nor locality.
    assert_eq!(
        addresses("Courier left the parcel at 19 Kingsway instead of reception."),
        ["19 Kingsway"]
    );
    assert_eq!(
        addresses("Meet at 1585 Broadway, then lunch."),
        ["1585 Broadway"]
    );
    // Not after a year, a label's number, or without a number.
    assert_eq!(
        addresses("The 2019 Broadway revival, Page 3 Kingsway notes, the Kingsway branch."),
        Vec::<String>::new()
    );
    // A capital type with no particle still needs a locality after it.
    assert_eq!(
        addresses("Order 2 Place Settings for the gala."),
        Vec::<String>::new()
    );
    assert_eq!(
        addresses("Send it to 500 Market St, Suite 200, San Francisco, CA 94105."),
        ["500 Market St, Suite 200, San Francisco, CA 94105"]
    );
    assert_eq!(
        addresses("Send it to 14 Merrion Square North, Dublin 2, D02 VH29 – thanks"),
        ["14 Merrion Square North, Dublin 2, D02 VH29"]
    );
    assert_eq!(
        addresses("Livraison à 88 rue Saint-Paul Ouest, Montréal, QC H2Y 1Z1, merci."),
        ["88 rue Saint-Paul Ouest, Montréal, QC H2Y 1Z1"]
    );
    assert_eq!(addresses("Au 12 rue Lepic, merci."), ["12 rue Lepic"]);
    assert_eq!(
        addresses("Delivered to Apt 12, 77 Baggot Street Lower, Dublin 2, D02 XW14."),
        ["Apt 12, 77 Baggot Street Lower, Dublin 2, D02 XW14"]
    );
}

#[test]
fn letter_masks_match_the_ascii_classes() {
    for byte in 0..=255u8 {
        for lane in 0..8 {
            let mut bytes = *b"1234.;: ";
            bytes[lane] = byte;
            let (letters, capitals) = super::letter_masks(u64::from_le_bytes(bytes));
            let bit = 0x80u64 << (8 * lane);
            assert_eq!(letters & bit != 0, byte.is_ascii_alphabetic(), "{byte:#x}");
            assert_eq!(capitals & bit != 0, byte.is_ascii_uppercase(), "{byte:#x}");
            assert_eq!(letters & !bit, 0);
        }
    }
}

#[test]
fn words_of_every_length_and_alignment_are_read_whole() {
    // Across the eight-byte steps, at the end of the text, with joins.
    for name in ["Li", "Sarah", "Bartholomew", "Oyelaran-Bakare", "O'Connell"] {
        for pad in 0..9 {
            let text = format!("{}Dr {name}", " ".repeat(pad));
            assert_eq!(person(&text), [name], "{text:?}");
            let text = format!("{}Dr {name}, thanks", " ".repeat(pad));
            assert_eq!(person(&text), [name], "{text:?}");
        }
    }
}

#[test]
fn high_bits_counts_as_count_ones() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..10_000 {
        crate::xorshift(&mut x);
        let v = x & 0x8080_8080_8080_8080;
        assert_eq!(super::high_bits(v), v.count_ones() as usize, "{v:#x}");
    }
    assert_eq!(super::high_bits(0x8080_8080_8080_8080), 8);
}

#[test]
fn places_from_the_place_list_are_no_people() {
    // Several words, looked up whole.
    no_person(&[
        "Ticket from the Hong Kong team about the VPN.",
        "A Northern Ireland customer cannot pay.",
        "The Hyde Park site lost power.",
        "Our New South Wales office is closed.",
        "Staff in Cape Town cannot log in.",
        "The Marion County and Jackson County offices.",
    ]);
    // One word that is a surname and a place: a name only with context.
    no_person(&[
        "Orders from Galway and Mayo fail.",
        "Registered in England and Wales.",
        "The rollout covers Florida and Nevada.",
    ]);
    // `Saint-…` and `St-…` name a place.
    assert_eq!(
        person("Meet me on Saint-Denis tomorrow."),
        Vec::<String>::new()
    );
    // A street word after a surname that is no given name: a place.
    assert_eq!(person("Lunch is in Hyde Park."), Vec::<String>::new());
    // A street word ending the name after a preposition of place.
    assert_eq!(person("Meet at Albert Park at noon."), Vec::<String>::new());
    // People still: a given name, then `Park`; a name beside a place.
    assert_eq!(person("Ask Jisoo Park about it."), ["Jisoo Park"]);
    assert_eq!(person("Hi Florence, the printer works."), ["Florence"]);
    assert_eq!(person("Tom Hamilton lost his laptop."), ["Tom Hamilton"]);
}

#[test]
fn rooms_and_sites_named_after_people_are_no_people() {
    no_person(&[
        "Please don't book the Kauri room tonight.",
        "The workshop is in the Tui Room on Friday.",
        "The Rimu boardroom screen is broken.",
        "Move the printer to the Hamilton office.",
        "The Grace Hopper lab is booked.",
        "The Hilton issue is fixed.",
        "Our Harvey account renewed.",
        "We set up Tui for the new starter.",
    ]);
    assert_eq!(person("Hi Sarah, the room is booked."), ["Sarah"]);
}

#[test]
fn greetings_in_other_languages_are_no_names() {
    assert_eq!(person("Dia dhuit, Sarah Murphy here."), ["Sarah Murphy"]);
    assert_eq!(person("Dia duit Sarah, any news?"), ["Sarah"]);
    assert_eq!(person("Mōrena Hemi, the VPN is down."), ["Hemi"]);
    assert_eq!(person("Shwmae Rhys, can you help?"), ["Rhys"]);
    assert_eq!(
        person("Tēnā koe, thanks for the help."),
        Vec::<String>::new()
    );
    // Greetings to no one by name.
    no_person(&[
        "Hi Everyone, the server is down.",
        "Hello All, quick update.",
        "Morning Folks, VPN is back.",
        "Hi There, my laptop broke.",
        "Cheers Mate, all good.",
        "Hi Guys, update below.",
        "Kia ora Whānau, the hui has moved.",
    ]);
    assert_eq!(person("Thanks Heaps,\nSam Jones"), ["Sam Jones"]);
}

#[test]
fn addresses_with_rural_delivery_highways_boxes_and_units() {
    let addresses = |text: &str| of_kind(text, "ADDRESS");
    let cases = [
        // NZ rural delivery and state highways.
        (
            "The shed at 87 Totara Road, RD 2, Matamata 3472 has no signal.",
            "87 Totara Road, RD 2, Matamata 3472",
        ),
        (
            "Router for 455 State Highway 1, Waipu 0582 please.",
            "455 State Highway 1, Waipu 0582",
        ),
        // Units: a Glasgow flat, chained units, a unit after the street.
        (
            "Post to Flat 2/1, 18 Hyndland Road, Glasgow G12 9UP today.",
            "Flat 2/1, 18 Hyndland Road, Glasgow G12 9UP",
        ),
        (
            "Ship to Suite 4, Level 3, 20 Bond Street, Sydney NSW 2000.",
            "Suite 4, Level 3, 20 Bond Street, Sydney NSW 2000",
        ),
        (
            "Send it to 900 Main St Apt 4C, Dallas, TX 75202.",
            "900 Main St Apt 4C, Dallas, TX 75202",
        ),
        (
            "We are at 10 Park Avenue, 12th Floor, Boston, MA 02116 now.",
            "10 Park Avenue, 12th Floor, Boston, MA 02116",
        ),
        // A building's name before the number.
        (
            "Registered office: Harbour House, 5 Quay Street, Cork, T12 AB34.",
            "Harbour House, 5 Quay Street, Cork, T12 AB34",
        ),
        // Post-office boxes.
        (
            "Remit to PO Box 5521, Hamilton 3242 by Friday.",
            "PO Box 5521, Hamilton 3242",
        ),
        (
            "Mail P.O. Box 77, Reno, NV 89504 today.",
            "P.O. Box 77, Reno, NV 89504",
        ),
        (
            "Unsere Adresse: Postfach 20 11 08, 80011 München.",
            "Postfach 20 11 08, 80011 München",
        ),
        // No street type, but a locality and a postcode.
        (
            "Deliver to 7 Deansgate, Manchester M3 4LQ please.",
            "7 Deansgate, Manchester M3 4LQ",
        ),
        // An estate, no house number.
        (
            "Engineer to Unit 9, Kingsway Business Park, Leeds LS2 7AB tomorrow.",
            "Unit 9, Kingsway Business Park, Leeds LS2 7AB",
        ),
        // Québec: a comma after the number, a unit, the province in brackets.
        (
            "Adresse : 310, rue Sherbrooke Ouest, app. 4, Montréal (Québec) H3A 1B2.",
            "310, rue Sherbrooke Ouest, app. 4, Montréal (Québec) H3A 1B2",
        ),
        // German `Am …kai`.
        (
            "Lieferung an Am Hafenkai 8, 20457 Hamburg bitte.",
            "Am Hafenkai 8, 20457 Hamburg",
        ),
    ];
    for (text, address) in cases {
        assert_eq!(addresses(text), [address], "{text}");
    }
    // Lines: the locality and postcode below the street.
    assert_eq!(
        addresses("Corrib Ltd\n9 Dock Street\nGalway\nH91 A2B3"),
        ["9 Dock Street\nGalway\nH91 A2B3"]
    );
    assert_eq!(
        addresses("Acme LLC\n12 W Lake St, Suite 400\nChicago, IL 60601"),
        ["12 W Lake St, Suite 400\nChicago, IL 60601"]
    );
    // Numbered streets, a unit on the line before, an Irish county, a
    // third locality before the postcode.
    assert_eq!(
        addresses("Ship to 410 7th Ave, Brooklyn, NY 11215 today."),
        ["410 7th Ave, Brooklyn, NY 11215"]
    );
    assert_eq!(
        addresses("Ship to:\nKwame Mensah\nApt 4D\n220 East 21st Street\nNew York, NY 10010\nUSA"),
        ["Apt 4D\n220 East 21st Street\nNew York, NY 10010"]
    );
    assert_eq!(
        addresses("Office: 9920 109 Street NW, Edmonton, AB T5K 1H8."),
        ["9920 109 Street NW, Edmonton, AB T5K 1H8"]
    );
    assert_eq!(
        addresses("Send to 4 Main Street, Ennis, Co. Clare, V95 XR44 please."),
        ["4 Main Street, Ennis, Co. Clare, V95 XR44"]
    );
    assert_eq!(
        addresses("Flat 2, 10 London Road, Headington, Oxford, Oxfordshire OX3 9AA."),
        ["Flat 2, 10 London Road, Headington, Oxford, Oxfordshire OX3 9AA"]
    );
    // In capitals.
    assert_eq!(
        addresses("SHIP TO: UNIT 2, 14 FACTORY ROAD, BELFAST VIC 3084"),
        ["UNIT 2, 14 FACTORY ROAD, BELFAST VIC 3084"]
    );
    assert_eq!(addresses("SEE 4 MAIN ST, IT DEPT."), ["4 MAIN ST"]);
    // Not addresses.
    for text in [
        "The old PO Box is closed.",
        "We bought 3 Dell, 2 Lenovo laptops.",
        "Reboot 2 Windows servers tonight.",
        "On 4 March the Wellington team moved.",
        "I have 2 Macs, Auckland 1010 is my postcode.",
        "Ship 5 Laptops, Sydney NSW 2000 warehouse.",
        "Build 2024 Edition, London SW1A 2AA release party.",
        "Page 3 Summary, Toronto, ON M5V 2T6 office.",
        "Version 2 Beta, London 2024 release notes.",
    ] {
        assert_eq!(addresses(text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn names_split_by_a_comma_a_stop_word_or_an_unknown_surname() {
    // Outlook's `Surname, Given <email>`.
    assert_eq!(
        person("From: Whitfield, Mark <mark.whitfield@example.com>\nSent: today"),
        ["Whitfield, Mark"]
    );
    // A stop word that is a name, between names (`Thu`: Thursday).
    assert_eq!(
        person("Good afternoon Nguyễn Thu Hà, your laptop is ready."),
        ["Nguyễn Thu Hà"]
    );
    assert_eq!(person("Meeting moved to Thu 4 May."), Vec::<String>::new());
    // Given names, then an unknown surname ending the run.
    assert_eq!(
        person("Fatima Zahra Okonjo cannot sign in."),
        ["Fatima Zahra Okonjo"]
    );
    // Not a trade after the given names.
    assert_eq!(
        person("Fatima Noor Trading invoices are late."),
        ["Fatima Noor"]
    );
    // An abbreviated street type is no name.
    assert_eq!(
        person("Turn left at 5th Ave, then right."),
        Vec::<String>::new()
    );
}

#[test]
fn irish_welsh_and_accented_names() {
    // Listed folded only (`siobhan`): found through the fold.
    assert_eq!(
        person("Dia duit Siobhán Kelly, any news?"),
        ["Siobhán Kelly"]
    );
    // Welsh `ap` is a particle.
    assert_eq!(
        person("Please add Rhys ap Gruffydd to the group."),
        ["Rhys ap Gruffydd"]
    );
    // Macrons are not folded: te reo Māori words are no names.
    assert_eq!(
        person("Ngā mihi nui, the printer works."),
        Vec::<String>::new()
    );
}

#[test]
fn an_unknown_given_name_before_a_surname_after_a_contact_word() {
    // The word the lexicon lacks, before a surname, after `From:`,
    // `Caller` or `call`, is the given name.
    assert_eq!(
        person("From: Mahfuz Chowdhury <m.chowdhury@example.com>"),
        ["Mahfuz Chowdhury"]
    );
    assert_eq!(
        person("Caller Tevite Fifita reports the Wi-Fi drops."),
        ["Tevite Fifita"]
    );
    // A surname-listed name, then an unknown word, after a contact word.
    assert_eq!(
        person("Please send it to Ngozi Bolaji, Legal."),
        ["Ngozi Bolaji"]
    );
    // Without context before it, the unknown word is not taken.
    assert_eq!(
        person("Yesterday Chowdhury sent the report."),
        Vec::<String>::new()
    );
    // Nor before a given name (`Whare Kai`, after a determiner: a place).
    assert_eq!(
        person("The practice is in the Whare Kai at noon."),
        Vec::<String>::new()
    );
}

#[test]
fn double_barrelled_names_are_given_names_only_if_every_part_is() {
    // `Takahashi-Brown` is a surname: alone, without context, no person.
    assert_eq!(person("Takahashi-Brown is on leave."), Vec::<String>::new());
    assert_eq!(
        person("Please call Ayumi Takahashi-Brown today."),
        ["Ayumi Takahashi-Brown"]
    );
    // `Jean-Luc`: both parts given names; `Hyun-woo`, a part in lower
    // case: one given name.
    assert_eq!(person("Jean-Luc will call back."), ["Jean-Luc"]);
    assert_eq!(
        person("Ticket from Min-woo Park about the IME."),
        ["Min-woo Park"]
    );
}

#[test]
fn german_titles_and_role_words() {
    assert_eq!(
        person("Nach Rücksprache mit Herrn Baumgartner senden wir es."),
        ["Baumgartner"]
    );
    // `Kunde` is a surname too, but before a name it is the role.
    assert_eq!(
        person("Kunde Sebastian Vogt meldet einen Fehler."),
        ["Sebastian Vogt"]
    );
    // `Von:` is the German `From:` header.
    assert_eq!(
        person("Von: Jörg Hinterberger\nBetreff: Drucker"),
        ["Jörg Hinterberger"]
    );
    assert_eq!(
        person("Von Miller called about the tickets."),
        ["Von Miller"]
    );
}

#[test]
fn holidays_brands_things_and_places_named_after_people() {
    no_person(&[
        // A weekday after a name: a holiday.
        "Payments are delayed by the Easter Monday holiday.",
        "Pentecost Monday is a holiday in Bavaria.",
        // A place word after a determiner, a possessive place.
        "The Eden Park screens need new firmware.",
        "There is a fibre cut near Arthur's Pass.",
        "Valentine's Day promo codes are broken.",
        // Servers and clusters named after people or trees.
        "The Sequoia and Redwood servers reboot tonight.",
        // After a possessive determiner.
        "He cannot print from his Mac.",
        // Brands that are surnames, without a person's context.
        "Expenses from Hilton and Marriott need receipts.",
        "Hilton says the invoice was paid.",
        // One name before a trade word: a business.
        "Emailed Wilson Parking about the permit.",
        // A place preposition at a sentence's start.
        "At Albert Park the kiosk is offline.",
    ]);
    // The near misses: people.
    assert_eq!(
        person("Please tell Sarah the install is on Monday."),
        ["Sarah"]
    );
    assert_eq!(person("Priya's MacBook will not boot."), ["Priya"]);
    assert_eq!(person("Sarah Park will join the call."), ["Sarah Park"]);
    assert_eq!(person("Paris Hilton called the desk."), ["Paris Hilton"]);
    assert_eq!(person("Ask Mr Hilton to call back."), ["Hilton"]);
    assert_eq!(
        person("Redwood said the servers are fine."),
        Vec::<String>::new()
    );
    assert_eq!(
        person("Spoke to Sarah Jones about the servers."),
        ["Sarah Jones"]
    );
    assert_eq!(person("We met Albert Park at reception."), ["Albert Park"]);
}

#[test]
fn addresses_with_floors_buildings_rural_routes_and_countries() {
    let address = |t: &str| of_kind(t, "ADDRESS");
    // A unit, then a building, then the street.
    assert_eq!(
        address("She lives at Flat 4, Marlow Court, 17 Station Road, Reading RG1 1LX."),
        ["Flat 4, Marlow Court, 17 Station Road, Reading RG1 1LX"]
    );
    // An ordinal floor before the number.
    assert_eq!(
        address("Send it to 2nd Floor, 10 Queen Street, Leeds LS1 2TW."),
        ["2nd Floor, 10 Queen Street, Leeds LS1 2TW"]
    );
    // A unit on a quay, with no house number.
    assert_eq!(
        address("The line at Apartment 3, Harbour Quay, Cobh, Co. Cork P24 HX59 is down."),
        ["Apartment 3, Harbour Quay, Cobh, Co. Cork P24 HX59"]
    );
    // Canada's rural routes, like New Zealand's rural delivery.
    assert_eq!(
        address("Mail: 455 Maple Line Road, RR 1, Guelph, ON N1H 6J2, Canada"),
        ["455 Maple Line Road, RR 1, Guelph, ON N1H 6J2"]
    );
    assert_eq!(
        address("Route invoices to RD 2, Waipukurau 4282."),
        ["RD 2, Waipukurau 4282"]
    );
    // A trailing country is left out.
    assert_eq!(
        address("Update it to PO Box 71, Suva, Fiji."),
        ["PO Box 71, Suva"]
    );
    // A country before the postcode stays inside.
    assert_eq!(
        address("Ship it to 4 Bute Street, Cardiff, Wales CF10 5AL today."),
        ["4 Bute Street, Cardiff, Wales CF10 5AL"]
    );
    // German units and streets after a preposition; French streets with a
    // particle.
    assert_eq!(
        address("Zurück an: Wohnung 2, Lindenstraße 8, 10969 Berlin - unbekannt."),
        ["Wohnung 2, Lindenstraße 8, 10969 Berlin"]
    );
    assert_eq!(
        address("Die Anschrift lautet Im Winkel 7b, 53111 Bonn."),
        ["Im Winkel 7b, 53111 Bonn"]
    );
    assert_eq!(
        address("Nouvelle adresse : 12, rue de la Gare, Sherbrooke (Québec) J1H 5C2."),
        ["12, rue de la Gare, Sherbrooke (Québec) J1H 5C2"]
    );
    // Near misses: no unit, no number, no postcode.
    for text in [
        "Ashdown Court is a lovely place.",
        "We visited Riverside Quay on Friday.",
        "RD 5 is the rural route we use.",
        "RD 9, Gore is far.",
        "The Supreme Court, Wellington ruled.",
        "Am Montag 3 Termine, danach frei.",
        "Im Jahr 2024, 12345 Fälle gemeldet.",
        "The floor, 41 seats, was full.",
    ] {
        assert_eq!(address(text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn us_legal_forms_after_a_comma() {
    assert_eq!(
        of_kind(
            "Shipment for Kestrel Ridge Outdoor Gear, LLC is held.",
            "ORGANIZATION"
        ),
        ["Kestrel Ridge Outdoor Gear, LLC"]
    );
    assert_eq!(
        of_kind("Outdoor Gear, Lyon and Paris stores.", "ORGANIZATION"),
        Vec::<String>::new()
    );
}

#[test]
fn names_in_capitals_after_kin_words_and_named_again() {
    // A given name, then an unknown word, in capitals before a dash or
    // after a contact word.
    assert_eq!(
        person("NADIA OKORO - FINANCE - PLEASE CALL BACK"),
        ["NADIA OKORO"]
    );
    assert_eq!(
        person("Note: customer AHMED QURAISHI confirmed his identity."),
        ["AHMED QURAISHI"]
    );
    // Near misses: a verb after the name, no separator or context.
    assert_eq!(
        person("URGENT: SARAH RANG - CALL BACK"),
        Vec::<String>::new()
    );
    assert_eq!(person("GRACE PERIOD IS OVER AGAIN"), Vec::<String>::new());
    // Two names that are no common words, before a stop word, are one.
    assert_eq!(person("NADIA OKORO IS LATE AGAIN"), ["NADIA OKORO"]);
    // After a word of kinship, a name that is also a word.
    assert_eq!(person("Her son Will set up the router."), ["Will"]);
    assert_eq!(person("My neighbour Frank signed for it."), ["Frank"]);
    assert_eq!(person("Will set up the router."), Vec::<String>::new());
    // A person found whole, then one of the name's words alone.
    assert_eq!(
        person("Please image a laptop for Tavita Mulitalo. Mulitalo starts Monday."),
        ["Tavita Mulitalo", "Mulitalo"]
    );
    assert_eq!(
        person("Re-image it for Charlotte Ahn; Charlotte's start date is 2 June."),
        ["Charlotte Ahn", "Charlotte"]
    );
    // Not before the name is found, not a common word without `'s` or
    // punctuation, not after a determiner or in another run.
    assert_eq!(person("Mulitalo starts Monday."), Vec::<String>::new());
    assert_eq!(
        person("The parcel for Summer Liang came back; Summer opening hours apply."),
        ["Summer Liang"]
    );
    assert_eq!(
        person("Closed by Hunter Blake. The Lower Hunter office waits."),
        ["Hunter Blake"]
    );
    assert_eq!(
        person("Jordan Lee asked us to ship it to Jordan."),
        ["Jordan Lee"]
    );
}

#[test]
fn form_labels_and_a_name_signing_off_the_last_line() {
    // A form's label is a contact word: an unknown given name before a
    // surname after it is the name.
    assert_eq!(
        person("Delivery failed. Recipient: Tevite Fifita, Shop 4."),
        ["Tevite Fifita"]
    );
    assert_eq!(
        person("Delivery failed. Shop: Tevite Fifita, unit 4."),
        Vec::<String>::new()
    );
    // A given name, even a common word, alone on the last line.
    assert_eq!(
        person("Morning,\nThe fax is bouncing again.\nRose"),
        ["Rose"]
    );
    // Not on a line with other words, nor on a line before others.
    assert_eq!(
        person("The fax is bouncing.\nRose garden photos attached."),
        Vec::<String>::new()
    );
    assert_eq!(
        person("The fax is bouncing.\nRose\nFacilities team"),
        Vec::<String>::new()
    );
    // A place ending an address block is no signature.
    assert_eq!(
        person("Ship to:\n12 Smith Lane\nRichmond\nVictoria"),
        Vec::<String>::new()
    );
}

#[test]
fn family_businesses_and_german_legal_forms() {
    no_person(&[
        "The quote came from Besnard Vallée et Fils today.",
        "Please bill Harcourt & Sons for the call-out.",
        "Quote from Okafor and Partners attached.",
    ]);
    assert_eq!(
        person("Please bill Tom Harcourt and Sarah Jones for it."),
        ["Tom Harcourt", "Sarah Jones"]
    );
    assert_eq!(
        of_kind("Supplier setup for Bruder Budig OHG done.", "ORGANIZATION"),
        ["Bruder Budig OHG"]
    );
    assert_eq!(
        of_kind("Escalated from Hänel Schmidtke KGaA today.", "ORGANIZATION"),
        ["Hänel Schmidtke KGaA"]
    );
}

#[test]
fn firms_joined_by_an_ampersand_and_teams_signing_off() {
    no_person(&[
        "Marks & Spencer vouchers are not redeeming.",
        "The quote from Hehl & Demmendaal expired.",
        "Regards,\nPayroll Services",
        "Regards,\nHelpdesk",
        "Best,\nMicrosoft Support",
    ]);
    // Given names on both sides are people; a person before `of` stays.
    assert_eq!(person("Sarah & Tom are out today."), ["Sarah", "Tom"]);
    assert_eq!(
        person("Ravi Kumar of Marks & Spencer called."),
        ["Ravi Kumar"]
    );
    // A person's name before a job title still signs off.
    assert_eq!(
        person("Kind regards,\nTom Becker Support Lead"),
        ["Tom Becker"]
    );
}

fn address(text: &str) -> Vec<String> {
    of_kind(text, "ADDRESS")
}

// The classes below were read from the fifth held-out set's errors; each
// is pinned on sentences of its own, with a near miss.

#[test]
fn a_unit_before_a_slashed_number_and_a_named_estate() {
    assert_eq!(
        address("Ship to Unit 3/22 Wattle Street, Newtown NSW 2042 please."),
        ["Unit 3/22 Wattle Street, Newtown NSW 2042"]
    );
    // No unit label before the slashed number: the number starts it.
    assert_eq!(
        address("Item 4/16 Banksia Road, Ryde NSW 2112 was late."),
        ["4/16 Banksia Road, Ryde NSW 2112"]
    );
    assert_eq!(
        address(
            "Collect from Unit 7, Westgate Commerce Hub, 15 Fulton Road, Leeds LS11 5AA today."
        ),
        ["Unit 7, Westgate Commerce Hub, 15 Fulton Road, Leeds LS11 5AA"]
    );
    // A name with no unit before it is no part of the address.
    assert_eq!(
        address("Contact Westgate Commerce Hub, 15 Fulton Road, Leeds LS11 5AA today."),
        ["15 Fulton Road, Leeds LS11 5AA"]
    );
    assert_eq!(
        address("Mail it to 400 Pine St, Ste 12, Seattle, WA 98101 by Friday."),
        ["400 Pine St, Ste 12, Seattle, WA 98101"]
    );
    assert_eq!(
        address("Mail it to 1200 Main St, Stevenson, WA 98648 by Friday."),
        ["1200 Main St, Stevenson, WA 98648"]
    );
}

#[test]
fn numbered_rural_roads() {
    assert_eq!(
        address("Site: 2210 County Road 12, Smithville, ON L0R 2A0."),
        ["2210 County Road 12, Smithville, ON L0R 2A0"]
    );
    // A number after the road with no comma is not the road's.
    assert_eq!(
        address("We are at 12 Station Road 5 minutes from the depot."),
        ["12 Station Road"]
    );
}

#[test]
fn german_streets_towns_and_ranges() {
    assert_eq!(
        address("Lieferadresse:\nGoethestraße 12\n80336 München"),
        ["Goethestraße 12\n80336 München"]
    );
    assert_eq!(
        address("Versand an:\nBirkenweg 4\n01067 Dresden"),
        ["Birkenweg 4\n01067 Dresden"]
    );
    // No postcode and town on the next line: the street alone, or
    // nothing for a weak street word.
    assert_eq!(
        address("Goethestraße 12\n3 Pakete fehlen"),
        ["Goethestraße 12"]
    );
    assert_eq!(
        address("Birkenweg 4\nTel. 0351 123456"),
        Vec::<String>::new()
    );
    assert_eq!(
        address("Lager: Hafenstraße 10–12, 20457 Hamburg."),
        ["Hafenstraße 10–12, 20457 Hamburg"]
    );
    assert_eq!(
        address("Lager: Hafenstraße 10 – bitte klingeln."),
        ["Hafenstraße 10"]
    );
    assert_eq!(
        address("Büro: Berger Straße 20, 60316 Frankfurt am Main, 2. OG."),
        ["Berger Straße 20, 60316 Frankfurt am Main"]
    );
    assert_eq!(
        address("Büro: Berger Straße 20, 60316 Frankfurt am besten."),
        ["Berger Straße 20, 60316 Frankfurt"]
    );
    assert_eq!(
        address("Bitte an Kölner Landstraße 8, 40591 Düsseldorf senden."),
        ["Kölner Landstraße 8, 40591 Düsseldorf"]
    );
    // A surname before the street is no part of it.
    assert_eq!(
        address("Bitte an Schneider Landstraße 8, 40591 Düsseldorf senden."),
        ["Landstraße 8, 40591 Düsseldorf"]
    );
}

#[test]
fn particles_after_a_title_and_gaelic_surnames() {
    assert_eq!(person("Dear Mr van der Merwe, thanks."), ["van der Merwe"]);
    assert_eq!(person("Dear Dr da Silva, thanks."), ["da Silva"]);
    // No title: the particles are not taken.
    assert_eq!(
        person("Ask about the van der Merwe file."),
        Vec::<String>::new()
    );
    assert_eq!(
        person("Booked: Aoife Mac Giolla Easpaig for Tuesday."),
        ["Aoife Mac Giolla Easpaig"]
    );
    // `Mac` last in a name, or first, stays a name word.
    assert_eq!(person("Booked: Sean Mac for Tuesday."), ["Sean Mac"]);
}

#[test]
fn a_greeted_common_word_name_and_its_surname() {
    assert_eq!(person("cc Grace Otieno"), ["Grace Otieno"]);
    assert_eq!(person("Hi Hope Wanjiru, any news?"), ["Hope Wanjiru"]);
    // No greeting: a common-word name and an unknown word are no one
    // (`Otieno` has been a known surname since the gazetteer took Python
    // Faker's Kenyan names, so `Grace Otieno reports` now is someone).
    no_person(&["Grace Wambuguzi reports are due."]);
    assert_eq!(person("Grace Otieno reports are due."), ["Grace Otieno"]);
}

#[test]
fn things_named_like_people() {
    no_person(&[
        "The trading name is Tui Florist now.",
        "The registered name is Kahikatea Holdings.",
        "Does Excel on Mac crash for you too?",
        "Alfred Hospital beds are full.",
        "Meet by the Victoria Garden gate.",
        "The Kahurangi Museum loan form is attached.",
        "James Cook University wifi is down.",
        "Marie Curie Hospice site is offline.",
        "The Florence Nightingale ward has two broken PCs.",
        "Join the Faith Church choir list.",
        "Update the Will Power workshop invite.",
        "Sandy Bridge laptops are end of life.",
        "Ab Juni gilt die neue Regel; im Juli kommt das Update.",
    ]);
    assert_eq!(person("My name is Ana Folau."), ["Ana Folau"]);
    assert_eq!(person("The files are in Priya's folder."), ["Priya"]);
    assert_eq!(
        person("Please call Alexandra Hopkins about it."),
        ["Alexandra Hopkins"]
    );
    assert_eq!(person("Mai Nguyen called."), ["Mai Nguyen"]);
    assert_eq!(person("Spoke to Tom Becker Monday."), ["Tom Becker"]);
    // Two common-word names with no determiner before them may be a person.
    assert_eq!(
        person("Will Power called about his laptop."),
        ["Will Power"]
    );
    assert_eq!(
        person("Florence Nightingale called about the ward."),
        ["Florence Nightingale"]
    );
}

#[test]
fn units_after_and_before_the_street() {
    assert_eq!(
        address("Delivery: 123 Main Street, Apt. 4, Springfield, IL 62701"),
        ["123 Main Street, Apt. 4, Springfield, IL 62701"]
    );
    // A locality that starts like a label is still a locality.
    assert_eq!(
        address("Delivery: 123 Main Street, Aptos, CA 95003"),
        ["123 Main Street, Aptos, CA 95003"]
    );
    assert_eq!(
        address("Please post to Units 5-6, 22 Smith Street, Parramatta NSW 2150."),
        ["Units 5-6, 22 Smith Street, Parramatta NSW 2150"]
    );
    assert_eq!(
        address("Room 4.02, Building 7, 1 Main Rd, Clayton VIC 3168"),
        ["Room 4.02, Building 7, 1 Main Rd, Clayton VIC 3168"]
    );
    // A word that labels no unit stays out.
    assert_eq!(
        address("Boxes 5-6, 22 Smith Street, Parramatta NSW 2150."),
        ["22 Smith Street, Parramatta NSW 2150"]
    );
}

#[test]
fn a_common_word_before_a_capitalised_adverb() {
    no_person(&["ATTN Dock In — Acme Ltd", "Hi Cash Up is late again."]);
    assert_eq!(person("Thanks Bill, Check In opens at 6."), ["Bill"]);
    // A name that is no common word stays a person.
    assert_eq!(person("ATTN Priya In the office"), ["Priya"]);
    assert_eq!(person("Attn: Sarah Jones"), ["Sarah Jones"]);
}

#[test]
fn a_street_type_before_another_is_part_of_the_name() {
    assert_eq!(
        address("Ship to 45 Harbour View Road, Whangarei 0172."),
        ["45 Harbour View Road, Whangarei 0172"]
    );
    assert_eq!(
        address("Ship to 9 Grove Park Road, London W4 3RU."),
        ["9 Grove Park Road, London W4 3RU"]
    );
    // One street type, or a title after it, ends the street there.
    assert_eq!(
        address("Ship to 8 Sea View, Brighton BN1 1AA."),
        ["8 Sea View, Brighton BN1 1AA"]
    );
    assert_eq!(address("Seen at 12 Main St Dr Jones said."), ["12 Main St"]);
}

#[test]
fn a_german_floor_before_the_town() {
    assert_eq!(
        address("Lieferung: Bahnhofstraße 7, 2. OG, 04109 Leipzig."),
        ["Bahnhofstraße 7, 2. OG, 04109 Leipzig"]
    );
    assert_eq!(
        address("Lieferung: Bahnhofstraße 7, EG, 04109 Leipzig."),
        ["Bahnhofstraße 7, EG, 04109 Leipzig"]
    );
    // No town after the floor: the street alone.
    assert_eq!(
        address("Lieferung: Bahnhofstraße 7, 2. OG, bitte klingeln."),
        ["Bahnhofstraße 7"]
    );
}

#[test]
fn groups_and_businesses_named_after_a_name() {
    no_person(&[
        "Hi Dev Team, the build is red.",
        "Thanks Design Crew for the help.",
        "Kelly Services sent a contractor.",
        "Avery Systems quoted for the racks.",
    ]);
    // A person before a word that names no group or business.
    assert_eq!(person("Thanks Kelly, the contractor arrived."), ["Kelly"]);
    assert_eq!(
        person("Priya Ramaswamy sent a contractor."),
        ["Priya Ramaswamy"]
    );
}

#[test]
fn localities_on_two_lines_or_with_no_comma() {
    assert_eq!(
        address("Ship to:\n7 Kowhai Street\nTawa\nPorirua 5028"),
        ["7 Kowhai Street\nTawa\nPorirua 5028"]
    );
    // Lines that end in no postcode or state are no part of it.
    assert_eq!(
        address("Ship to:\n7 Kowhai Street\nTawa\nPorirua office"),
        ["7 Kowhai Street"]
    );
    assert_eq!(
        address("Address: 1 Pitt Street Sydney NSW 2000"),
        ["1 Pitt Street Sydney NSW 2000"]
    );
    assert_eq!(
        address("Address: 4 Elm Road Leeds LS6 2AB"),
        ["4 Elm Road Leeds LS6 2AB"]
    );
    // Four digits alone after words with no comma may be a count.
    assert_eq!(
        address("We met at 1 Pitt Street Sydney 2000 people came."),
        ["1 Pitt Street"]
    );
}

#[test]
fn roles_written_like_titles() {
    assert_eq!(
        person("The scanner is jammed, says Nurse Aroha."),
        ["Aroha"]
    );
    assert_eq!(person("Officer Nguyen needs a new badge."), ["Nguyen"]);
    // A role before no name is nothing.
    no_person(&["The Nurse Station printer is jammed."]);
}

// The classes below were read from the sixth held-out set's errors; each
// is pinned on sentences of its own, with a near miss.

#[test]
fn a_house_number_range_with_an_en_dash() {
    assert_eq!(
        address("Ship to 8–10 Tasman Road, Penrose, Auckland 1061 today."),
        ["8–10 Tasman Road, Penrose, Auckland 1061"]
    );
    assert_eq!(
        address("Call between 9–5 on weekdays, or visit 10 Tasman Road, Penrose, Auckland 1061."),
        ["10 Tasman Road, Penrose, Auckland 1061"]
    );
}

#[test]
fn a_loading_dock_is_a_unit() {
    assert_eq!(
        address("Deliver to 12 Airport Drive, Dock 4, Mascot NSW 2020 before noon."),
        ["12 Airport Drive, Dock 4, Mascot NSW 2020"]
    );
    // A dock with no number is no unit, and no locality either.
    assert_eq!(
        address("The parcel is at 12 Airport Drive, Dock staff have it."),
        ["12 Airport Drive"]
    );
}

#[test]
fn a_french_local_after_the_street() {
    assert_eq!(
        address("Livrer au 300, boulevard Saint-Joseph, local 210, Gatineau (Québec) J8Y 3X4."),
        ["300, boulevard Saint-Joseph, local 210, Gatineau (Québec) J8Y 3X4"]
    );
    assert_eq!(
        address("Livrer au 300, boulevard Saint-Joseph, local sans numéro."),
        ["300, boulevard Saint-Joseph"]
    );
}

#[test]
fn a_unit_and_its_building_on_the_line_before() {
    assert_eq!(
        address("Deliver to:\nShop 3, Riverside Plaza\n45 Ferry Road\nChristchurch 8011"),
        ["Shop 3, Riverside Plaza\n45 Ferry Road\nChristchurch 8011"]
    );
    // A name in lower case is no building's.
    assert_eq!(
        address("Deliver to:\nShop 3, the riverside kiosk\n45 Ferry Road\nChristchurch 8011"),
        ["45 Ferry Road\nChristchurch 8011"]
    );
}

#[test]
fn a_house_name_with_the_or_a_building_word() {
    assert_eq!(
        address("Send it to The Old Bakery, 4 Church Lane, Ashford TN23 1AA please."),
        ["The Old Bakery, 4 Church Lane, Ashford TN23 1AA"]
    );
    assert_eq!(
        address("Send it to Ashcombe Manor, 2 Mill Road, Bath BA1 1AA please."),
        ["Ashcombe Manor, 2 Mill Road, Bath BA1 1AA"]
    );
    // Other names before the number are no house's.
    assert_eq!(
        address("Send it to Ashford Bakery, 4 Church Lane, Ashford TN23 1AA please."),
        ["4 Church Lane, Ashford TN23 1AA"]
    );
}

#[test]
fn the_lines_after_the_street_in_capitals_in_brackets_or_mid_sentence() {
    assert_eq!(
        address("RETURN TO: 18 ELM ST, APT 3\nDENVER CO 80203\nTHANKS"),
        ["18 ELM ST, APT 3\nDENVER CO 80203"]
    );
    assert_eq!(
        address("RETURN TO: 18 ELM ST, APT 3\nIT DEPT"),
        ["18 ELM ST, APT 3"]
    );
    assert_eq!(
        address("Livraison :\n12, rue Principale, app. 4\nLévis (Québec) G6V 4A1\nMerci"),
        ["12, rue Principale, app. 4\nLévis (Québec) G6V 4A1"]
    );
    assert_eq!(
        address("Livraison :\n12, rue Principale, app. 4\nLévis (bureau) G6V 4A1"),
        ["12, rue Principale, app. 4"]
    );
    assert_eq!(
        address("Ship to 9 Birch Ln\nConcord, NH 03301 and call first."),
        ["9 Birch Ln\nConcord, NH 03301"]
    );
    // With no state, a code the sentence runs on after may be a count.
    assert_eq!(
        address("Ship to 9 Birch Ln\nConcord 0330 and call first."),
        ["9 Birch Ln"]
    );
}

#[test]
fn a_part_of_a_german_block_before_the_floor_and_town() {
    assert_eq!(
        address("Lieferung: Bergstraße 14, Hinterhaus, 3. OG, 10115 Berlin."),
        ["Bergstraße 14, Hinterhaus, 3. OG, 10115 Berlin"]
    );
    assert_eq!(
        address("Lieferung: Bergstraße 14, Hinterhof, 10115 Berlin."),
        ["Bergstraße 14"]
    );
}

#[test]
fn sender_labels_and_french_adjectives_around_organisations() {
    let org = |t: &str| of_kind(t, "ORGANIZATION");
    assert_eq!(
        org("Rücksendung, Absender Kestrel Werkzeuge GmbH, bitte prüfen."),
        ["Kestrel Werkzeuge GmbH"]
    );
    assert_eq!(
        org("Rücksendung, Kundendienst Kestrel GmbH, bitte prüfen."),
        ["Kundendienst Kestrel GmbH"]
    );
    assert_eq!(
        org("Objet : facture — Transports routiers Beaulieu Ltée"),
        ["Transports routiers Beaulieu Ltée"]
    );
    assert_eq!(
        org("Bonjour, nous payons Beaulieu Ltée demain."),
        ["Beaulieu Ltée"]
    );
}

#[test]
fn a_team_signed_off_a_name_qualifying_a_noun_and_a_firms_worker() {
    no_person(&[
        "Mit freundlichen Grüßen\nIhr Support-Team",
        "Please update the Aroha Health laptops before Friday.",
        "The lift is stuck again. Otis technician booked for Monday.",
    ]);
    assert_eq!(
        person("Mit freundlichen Grüßen\nIris Hartmann"),
        ["Iris Hartmann"]
    );
    assert_eq!(
        person("Is this the Priya Ramaswamy from payroll?"),
        ["Priya Ramaswamy"]
    );
    assert_eq!(person("Otis will meet the engineer at 2pm."), ["Otis"]);
}

#[test]
fn a_german_street_with_no_street_word_before_its_postcode_and_town() {
    assert_eq!(
        address("Neue Anschrift ab Mai: Kaulbachhöhe 7, 80539 München. Danke!"),
        ["Kaulbachhöhe 7, 80539 München"]
    );
    // A longer number is no house's; with no town the word is no street.
    assert_eq!(
        address("Rechnung Kaulbachhöhe 4711, 80539 München. Danke!"),
        Vec::<String>::new()
    );
    assert_eq!(
        address("Bitte Kaulbachhöhe 7 im Plan markieren."),
        Vec::<String>::new()
    );
}

/// A title-case word the lexicon does not know, mid-sentence just before a
/// surname that is no given name, is the given name (`their CISO, Eluned
/// Pryce`); at a sentence's start it is not read as one.
#[test]
fn an_unknown_capital_mid_sentence_before_a_surname_is_the_given_name() {
    assert_eq!(
        person("Send the audit pack to their controller, Eluned Hossain, by Friday."),
        ["Eluned Hossain"]
    );
    assert_eq!(
        person("The laptop went to finance and Tanvir Hossain signed for it."),
        ["Tanvir Hossain"]
    );
    let start = person("Quarterly Hossain figures are due.");
    assert!(!start.iter().any(|p| p.contains("Quarterly")), "{start:?}");
}

#[test]
fn an_unknown_given_name_before_a_surname_that_is_a_given_name_too() {
    // In mid-sentence, or shaped like a given name (`Seo-yeon`,
    // `Mata'afa`): the word before the surname is the given name.
    assert_eq!(
        person("No street given; asked Jarrah Williams to confirm."),
        ["Jarrah Williams"]
    );
    assert_eq!(
        person("Label printed for Mata'afa Leota today."),
        ["Mata'afa Leota"]
    );
    assert_eq!(
        person("HR: visa expiry is 30 June. Remind Seo-yeon Kim in People Ops."),
        ["Seo-yeon Kim"]
    );
    // At a sentence's start the unknown word may be a verb; after a
    // preposition of place, a thing.
    assert_eq!(person("Remind Williams to call."), ["Williams"]);
    assert_eq!(person("Nudge Kim about the laptop."), ["Kim"]);
    assert_eq!(person("the call on Zoom Williams said"), ["Williams"]);
}

#[test]
fn a_stop_word_that_is_a_given_name_before_a_surname_in_mid_sentence() {
    assert_eq!(
        person("Drew Okafor will be covering for Lane Mitchell while she's away."),
        ["Drew Okafor", "Lane Mitchell"]
    );
    // After a preposition of place it stays a street.
    no_person(&["The van is parked in Lane Smith"]);
}

#[test]
fn given_names_the_lexicon_does_not_know_before_binti_or_ibn() {
    assert_eq!(
        person("From: Nurul Huda binti Ismail\nSubject: Payslip missing"),
        ["Nurul Huda binti Ismail"]
    );
    // `bin` is an English word too.
    no_person(&["Empty the Recycle bin Smith said"]);
}

/// A person's `'s` before a verb is still the person's (`Kellogg's is
/// broken too`: her laptop): a brand's `'s` (`Kellogg's is a vendor`) is
/// not told apart from it, and a masker must not unmask the person.
#[test]
fn a_known_persons_possessive_before_a_verb_stays_a_person() {
    assert_eq!(
        person("Dana Kellogg joined. Mine works but Kellogg's is broken too."),
        ["Dana Kellogg", "Kellogg"]
    );
    assert_eq!(
        person("Dana Kellogg joined. Kellogg's laptop is ready."),
        ["Dana Kellogg", "Kellogg"]
    );
}

#[test]
fn a_numbered_route_after_a_house_number_and_a_lettered_building() {
    assert_eq!(
        address(
            "RMA label: Harcourt Medical, Inc., 1400 Route 9, Building B, Clifton Park, NY 12065"
        ),
        ["1400 Route 9, Building B, Clifton Park, NY 12065"]
    );
    assert_eq!(
        address("Deliver to 25 State Route 7, Millbrook, NY 12545"),
        ["25 State Route 7, Millbrook, NY 12545"]
    );
    // No house number, or nothing after the road's number: no address.
    assert_eq!(address("Take Route 9 to the depot."), Vec::<String>::new());
    assert_eq!(address("We drove 40 Route 9 miles"), Vec::<String>::new());
    assert_eq!(
        address("The Building B door is stuck"),
        Vec::<String>::new()
    );
}

#[test]
fn u_before_a_slashed_unit_and_house_number() {
    assert_eq!(
        address("Deliver to U 7/44 Railway Pde, Kogarah NSW 2217 for Sunil."),
        ["U 7/44 Railway Pde, Kogarah NSW 2217"]
    );
    // Before a house number alone, `U` is no unit.
    assert_eq!(
        address("Deliver to U 44 Railway Pde, Kogarah NSW 2217 for Sunil."),
        ["44 Railway Pde, Kogarah NSW 2217"]
    );
}

#[test]
fn an_address_block_with_a_unit_line_or_a_suburb_and_town_on_one_line() {
    assert_eq!(
        address("Ship to:\nDr Rachel Kim\n221 Elm Avenue\nApt 4B\nPortland, OR 97205"),
        ["221 Elm Avenue\nApt 4B\nPortland, OR 97205"]
    );
    assert_eq!(
        address("Courier to 80 Queen Street\nPonsonby, Auckland 1011\nThanks"),
        ["80 Queen Street\nPonsonby, Auckland 1011"]
    );
    // With no locality and postcode after them, the lines are not taken.
    assert_eq!(
        address("Courier to 80 Queen Street\nApt 4B\nThanks"),
        ["80 Queen Street"]
    );
    assert_eq!(
        address("Courier to 80 Queen Street\nPonsonby, Auckland\nThanks"),
        ["80 Queen Street"]
    );
}

#[test]
fn a_team_or_function_word_after_a_sign_off_is_no_person() {
    no_person(&[
        "Cheers,\nOps",
        "Cheers,\nCatering",
        "Regards,\nManagement",
        "Thanks,\nProjects",
    ]);
    // A name the gazetteer holds, or a word that does not end like a
    // trade, still signs off a person.
    assert_eq!(person("Cheers,\nMing"), ["Ming"]);
    assert_eq!(person("Cheers,\nTaini"), ["Taini"]);
}

#[test]
fn signed_and_thanks_and_regards_are_sign_offs() {
    assert_eq!(
        person("Signed,\nPrecious Dlamini\nPayroll Officer"),
        ["Precious Dlamini"]
    );
    assert_eq!(person("Thanks & regards,\nNikhil"), ["Nikhil"]);
    // Not mid-sentence, nor a team after it.
    no_person(&["The form was signed,\nThen filed", "Signed,\nManagement"]);
}

#[test]
fn a_term_of_address_after_a_greeting_is_no_person() {
    no_person(&[
        "Hi Partner, any update?",
        "Hey Buddy, can you help?",
        "Thanks Champ",
        "Morning Sunshine!",
    ]);
    // A name greeted still is one.
    assert_eq!(person("Hi Priya, any update?"), ["Priya"]);
}

#[test]
fn a_job_title_before_a_name_is_no_part_of_it() {
    assert_eq!(
        person("Senior Analyst Priya Nair approved."),
        ["Priya Nair"]
    );
    assert_eq!(person("Senior Aroha Ngata approved."), ["Aroha Ngata"]);
    assert_eq!(person("Ask Team Leader Wilson."), ["Wilson"]);
    // A title alone is no person.
    no_person(&["Regards,\nSenior Systems Engineer"]);
}

#[test]
fn a_name_before_wrote_in_a_quoted_header() {
    assert_eq!(person("> > On Friday, Mark wrote:\n> > Done."), ["Mark"]);
    assert_eq!(person("On Tue, Will wrote:"), ["Will"]);
    // Words the gazetteer does not hold, and teams, are no writer's name.
    no_person(&["On Tue, Noreply wrote:", "On Tue, Service Desk wrote:"]);
}

#[test]
fn a_name_before_an_institution_word_names_the_institution() {
    no_person(&[
        "Deliver to:\nJames Cook Hotel\n147 The Terrace\nWellington 6011",
        "The Princess Margaret Hospital called back.",
        "Edmund Hillary Foundation grant is approved.",
    ]);
    // In lower case the word is no part of a name.
    assert_eq!(person("Ask Priya Nair school forms"), ["Priya Nair"]);
    // Inside the run too, unless a surname as often (`Hall`).
    no_person(&["Ship to:\nMorgan Stanley Tower\n1585 Broadway"]);
    assert_eq!(person("Sarah Hall called."), ["Sarah Hall"]);
    assert_eq!(person("Ask Sarah Tower."), ["Sarah Tower"]);
}

#[test]
fn a_verb_or_contact_word_before_a_firm_is_no_part_of_its_name() {
    let orgs = |t: &str| of_kind(t, "ORGANIZATION");
    assert_eq!(orgs("Use Acme Ltd for freight."), ["Acme Ltd"]);
    assert_eq!(orgs("Ask Acme Ltd for a quote."), ["Acme Ltd"]);
    assert_eq!(orgs("Invoice Acme Ltd monthly."), ["Acme Ltd"]);
    // Inside the name, such a word stays.
    assert_eq!(
        orgs("Please pay Harbour Invoice Services Ltd today."),
        ["Harbour Invoice Services Ltd"]
    );
}

#[test]
fn legal_forms_alone_name_no_firm_and_a_second_form_joins_the_first() {
    let orgs = |t: &str| of_kind(t, "ORGANIZATION");
    assert_eq!(orgs("Is it Pty Ltd or Ltd?"), Vec::<String>::new());
    assert_eq!(
        orgs("He works for Big Corp Inc. in Chicago."),
        ["Big Corp Inc."]
    );
    assert_eq!(orgs("Acme Co. Ltd is late."), ["Acme Co. Ltd"]);
    // Not a short form that may be a word or a code after it.
    assert_eq!(orgs("Acme Pty Ltd AB testing."), ["Acme Pty Ltd"]);
}

#[test]
fn a_unit_word_inside_a_localitys_name() {
    assert_eq!(
        address("Send to 21 Sydney Road, Spring Flat, NSW 2850 today."),
        ["21 Sydney Road, Spring Flat, NSW 2850"]
    );
    assert_eq!(
        address("Send to 21 SYDNEY ROAD, SPRING FLAT, NSW 2850 today."),
        ["21 SYDNEY ROAD, SPRING FLAT, NSW 2850"]
    );
    assert_eq!(
        address("Send to 21 Sydney Road, Spring Flat NSW 2850 today."),
        ["21 Sydney Road, Spring Flat NSW 2850"]
    );
    // A unit first, or with its number, is still a unit.
    assert_eq!(
        address("Send to 21 Sydney Road, Flat 4, Mudgee NSW 2850 today."),
        ["21 Sydney Road, Flat 4, Mudgee NSW 2850"]
    );
}

#[test]
fn a_house_name_on_its_own_line_or_with_haus() {
    assert_eq!(
        address(
            "Address block:\nFiona McAllister\nThe Old Rectory\n3 Church Lane\nLittle Haddon\nNorthampton NN6 8HT\nUnited Kingdom"
        ),
        ["The Old Rectory\n3 Church Lane\nLittle Haddon\nNorthampton NN6 8HT"]
    );
    assert_eq!(
        address("Ship to:\nAshcombe Manor\n2 Mill Road\nBath BA1 1AA"),
        ["Ashcombe Manor\n2 Mill Road\nBath BA1 1AA"]
    );
    assert_eq!(
        address(
            "Please send the signed form to Haus Lindenhof, Lindenweg 4, 79098 Freiburg im Breisgau."
        ),
        ["Haus Lindenhof, Lindenweg 4, 79098 Freiburg im Breisgau"]
    );
    // A person's line, a role or a name not at a line's start is no house's.
    assert_eq!(
        address("Ship to:\nFiona McAllister\n2 Mill Road\nBath BA1 1AA"),
        ["2 Mill Road\nBath BA1 1AA"]
    );
    assert_eq!(
        address("The Occupier\n2 Mill Road\nBath BA1 1AA"),
        ["2 Mill Road\nBath BA1 1AA"]
    );
    assert_eq!(
        address("Attn: The Manager\n2 Mill Road\nBath BA1 1AA"),
        ["2 Mill Road\nBath BA1 1AA"]
    );
}

#[test]
fn a_house_name_of_one_word_before_the_house_number() {
    assert_eq!(
        address(
            "Deliver to Hollybank, 2 Church Lane, Little Shelford, Cambridge CB22 5HA. Ring ahead."
        ),
        ["Hollybank, 2 Church Lane, Little Shelford, Cambridge CB22 5HA"]
    );
    assert_eq!(
        address("Ship to:\nFairview, 4 Mill Road, Ely CB7 4DP"),
        ["Fairview, 4 Mill Road, Ely CB7 4DP"]
    );
    // A firm's or a person's name is not the house's.
    assert_eq!(
        address("Deliver to Contoso, 2 Church Lane, Cambridge CB22 5HA."),
        ["2 Church Lane, Cambridge CB22 5HA"]
    );
    assert_eq!(
        address("Deliver to Sarah, 2 Church Lane, Cambridge CB22 5HA."),
        ["2 Church Lane, Cambridge CB22 5HA"]
    );
}

#[test]
fn a_patronymic_after_given_names_the_lexicon_knows_joins_the_name() {
    assert_eq!(
        person("FYI Nur Atikah binti Rahmat is the new payroll officer."),
        ["Nur Atikah binti Rahmat"]
    );
    assert_eq!(
        person("Please ask Ahmad bin Hassan to call the site."),
        ["Ahmad bin Hassan"]
    );
    // Only a title-case word after the particle.
    assert_eq!(person("Hi Ahmad, bin it."), ["Ahmad"]);
}

/// Names of the regions' people from the wider gazetteer (Cyrillic names
/// romanised, African, Turkish, Central European), and the tool names and
/// prepositions that came in with them kept out.
#[test]
fn names_of_the_wider_gazetteer_and_the_words_it_must_not_take() {
    assert_eq!(
        person("Please reset MFA for Kateryna Kovalenko and Dmitriy Ivanov."),
        ["Kateryna Kovalenko", "Dmitriy Ivanov"]
    );
    assert_eq!(
        person("Sipho Dlamini and Mehmet Yilmaz start on Monday."),
        ["Sipho Dlamini", "Mehmet Yilmaz"]
    );
    assert_eq!(person("Per Ravi: the backup job failed."), ["Ravi"]);
    no_person(&[
        "Okta, Slack and Jira are waiting on a licence.",
        "Route it over Tor if you must.",
    ]);
}

#[test]
fn addresses_after_lots_rural_rounds_scottish_flats_and_named_halls() {
    assert_eq!(
        address("Lot 17, 5 Jarrah Close, Margaret River WA 6285. Settlement is Friday."),
        ["Lot 17, 5 Jarrah Close, Margaret River WA 6285"]
    );
    assert_eq!(
        address("Could not deliver to RD 3, 1472 Waitomo Valley Road, Otorohanga 3977."),
        ["RD 3, 1472 Waitomo Valley Road, Otorohanga 3977"]
    );
    assert_eq!(
        address("Delivered to Kowhai Farm, RD 2, 88 Coast Road, Warkworth 0982."),
        ["Kowhai Farm, RD 2, 88 Coast Road, Warkworth 0982"]
    );
    assert_eq!(
        address("The flat at 3F2, 41 Warrender Park Road, Edinburgh EH9 1EU leaks."),
        ["3F2, 41 Warrender Park Road, Edinburgh EH9 1EU"]
    );
    assert_eq!(
        address("Sent to Room 12, Hall of Residence, 4 College Road, Cork T12 K8AF."),
        ["Room 12, Hall of Residence, 4 College Road, Cork T12 K8AF"]
    );
    // Near misses: a count, a lot at auction, a flat's code in prose.
    assert_eq!(
        address("We sold Lot 17 and 5 chairs."),
        Vec::<String>::new()
    );
    assert_eq!(address("Ask for 2F1 at reception."), Vec::<String>::new());
}

#[test]
fn localities_with_a_connector_and_quebec_streets_with_a_capital() {
    assert_eq!(
        address("Ship it to 9 Harbour Road, Portree, Isle of Skye IV51 9XX today."),
        ["9 Harbour Road, Portree, Isle of Skye IV51 9XX"]
    );
    assert_eq!(
        address("Office: 12 Grey Street, Newcastle upon Tyne NE1 6AE."),
        ["12 Grey Street, Newcastle upon Tyne NE1 6AE"]
    );
    assert_eq!(
        address("Return to 4410 Rue Saint-Hubert, Montréal QC H2J 2X1 please."),
        ["4410 Rue Saint-Hubert, Montréal QC H2J 2X1"]
    );
    // A capitalised French type needs a locality or postcode after it.
    assert_eq!(
        address("We have 2 Place Settings left."),
        Vec::<String>::new()
    );
    // `of` goes on only into a capitalised word.
    assert_eq!(
        address("Moved to 3 Mill Lane, Ely of course."),
        ["3 Mill Lane, Ely"]
    );
}

#[test]
fn month_abbreviations_that_are_given_names_greeted_or_before_a_name() {
    assert_eq!(
        person("Jan Kowalski called about the VPN."),
        ["Jan Kowalski"]
    );
    assert_eq!(
        person("Please add Jun Hao Lim to the list."),
        ["Jun Hao Lim"]
    );
    assert_eq!(person("Hi Jan, can you check the rota?"), ["Jan"]);
    no_person(&[
        "Due Jan 5, the invoice run.",
        "Jan Invoice attached for review.",
        "Ave Maria was sung at the opening.",
    ]);
}

#[test]
fn a_verb_of_saying_after_a_name_that_is_also_a_word() {
    assert_eq!(
        person("Grace said the grace period ends Friday."),
        ["Grace"]
    );
    assert_eq!(person("Mark asked me to mark it as resolved."), ["Mark"]);
    assert_eq!(
        person("Hope Adeyemi confirmed the fix worked."),
        ["Hope Adeyemi"]
    );
    assert_eq!(
        person("Customer Summer replied and closed the chat."),
        ["Summer"]
    );
    // A quoted message's header names its writer, a surname too.
    assert_eq!(person("On Friday, Okafor wrote:\n> the server"), ["Okafor"]);
    // Brands, firms and roles say things too.
    no_person(&[
        "Dell confirmed the part ships Monday.",
        "NZ Post says the parcel is held at the depot.",
        "Canada Post says the postal code is valid.",
        "Ward Manager says the cabinet is offline.",
        "Sky confirms a fix for the outage.",
    ]);
}

#[test]
fn capitals_after_a_greeting_or_a_title_and_nouns_after_a_german_article() {
    assert_eq!(person("Hi MARTINA, your login was reset."), ["MARTINA"]);
    assert_eq!(person("HI SARAH JONES PLEASE CALL BACK"), ["SARAH JONES"]);
    no_person(&[
        "Hi TEAM, the server is down.",
        "Dear MARK, thanks for that.",
    ]);
    assert_eq!(
        person("Paket wurde beim Nachbarn Kaya abgegeben."),
        ["Kaya"]
    );
}

#[test]
fn greeted_in_lower_case_three_part_names_and_second_surnames() {
    assert_eq!(person("Hi jessica, the courier rang twice."), ["jessica"]);
    no_person(&[
        "Hi there, the courier rang.",
        "Hi team, outage tonight.",
        "Hi guys, the VPN is down.",
    ]);
    assert_eq!(
        person("Please refund Bich Ngoc Tran; the order was duplicated."),
        ["Bich Ngoc Tran"]
    );
    assert_eq!(
        person("Vendor: Stonebridge\nBuyer: Alejandra Quispe Mamani"),
        ["Alejandra Quispe Mamani"]
    );
    assert_eq!(
        person("Buyer: Alejandra Garcia Quenta\nTotal: 4 items"),
        ["Alejandra Garcia Quenta"]
    );
    // A trade word or a word mid-line after the name is not a surname.
    assert_eq!(person("Regards,\nSarah Jones Consulting"), ["Sarah Jones"]);
    assert_eq!(person("Contact: Tom Becker Plumbing"), ["Tom Becker"]);
}

#[test]
fn an_abbreviated_form_keeps_its_stop_and_a_titled_person_leaves_the_firm() {
    assert_eq!(
        of_kind("Bill to: Bluenose Marine Supply Inc.", "ORGANIZATION"),
        ["Bluenose Marine Supply Inc."]
    );
    assert_eq!(
        of_kind(
            "Invoice from Hollowell Devices Corp. Pay by Friday.",
            "ORGANIZATION"
        ),
        ["Hollowell Devices Corp."]
    );
    // `Ltd` is written without a stop: the stop is the sentence's.
    assert_eq!(
        of_kind("We paid Tawa Medical Ltd.", "ORGANIZATION"),
        ["Tawa Medical Ltd"]
    );
    assert_eq!(
        entities("Mme Marie-Ève Gagnon de Les Services Techniques Laurentides Ltée demande."),
        [
            ("PERSON".to_owned(), "Marie-Ève Gagnon".to_owned()),
            (
                "ORGANIZATION".to_owned(),
                "Les Services Techniques Laurentides Ltée".to_owned()
            )
        ]
    );
}

/// The UK's and Australia's postal formats write the post town or suburb
/// in capitals after a street in title case.
#[test]
fn a_post_town_in_capitals_before_a_state_or_postcode() {
    assert_eq!(
        address("Send it to 90 Petworth Rd, DUNSINNAN PH2 5HL please."),
        ["90 Petworth Rd, DUNSINNAN PH2 5HL"]
    );
    assert_eq!(
        address("Deliver to 75 Acheron Road, KONGWAK, VIC 3951 on Monday."),
        ["75 Acheron Road, KONGWAK, VIC 3951"]
    );
    // Capitals with no state or postcode after them are no locality.
    assert_eq!(address("At 12 Main St, IT DEPT today."), ["12 Main St"]);
}

#[test]
fn initials_before_a_surname() {
    assert_eq!(person("Signed for by J. Smith at 11:42."), ["J. Smith"]);
    assert_eq!(person("Dr R. K. Okafor called back."), ["R. K. Okafor"]);
    assert_eq!(person("Regards,\nJ. Kowalczyk"), ["J. Kowalczyk"]);
    // `M.` is French for Mr; a street cuts a name to initials alone.
    assert_eq!(person("Le client, M. Okafor, était absent."), ["Okafor"]);
    no_person(&["Plan B. Smith Street is closed.", "Team A. Baker Street"]);
}

/// Software that is also a name (`Perl`, `Cassandra`, `Dev`) is a name
/// only with context in IT text.
#[test]
fn software_named_like_people_only_with_context() {
    no_person(&[
        "Install the Perl and Lua modules on the build box.",
        "Haskell builds fail since the upgrade.",
        "Please restart Cassandra on node 3.",
        "Dev server is down again.",
        "Data files for Thai language support.",
    ]);
    assert_eq!(person("Hi Ada, the laptop is ready."), ["Ada"]);
    assert_eq!(
        person("Cassandra Okafor called about the invoice."),
        ["Cassandra Okafor"]
    );
}

#[test]
fn titles_in_lower_case_padded_labels_streets_and_units_after_a_name() {
    assert_eq!(person("I'd like to join accounts with ms. Topi"), ["Topi"]);
    assert_eq!(
        person("Name:    Otniel Alonso\nPlan: gold"),
        ["Otniel Alonso"]
    );
    // A sentence's full stop is no title's.
    no_person(&["It ends. Topi said no."]);
    // Names before a street type name the street.
    no_person(&[
        "He lives on the north side of Leroy Lane.",
        "Mark Street is closed.",
    ]);
    // A unit label ends a name.
    assert_eq!(
        person("Ms. Liam Avery Apt. 215 224 Forrest Hill Road"),
        ["Liam Avery"]
    );
}

#[test]
fn a_person_from_a_firm_and_an_answer_to_a_question_for_a_name() {
    assert_eq!(
        person("Hi Robin, Jack from Carraig Data Services DAC is here."),
        ["Robin", "Jack"]
    );
    assert_eq!(
        person("Ngozi Eze from Lagos Bridge Capital PLC wants a copy."),
        ["Ngozi Eze"]
    );
    assert_eq!(person("What's your name? Kisuke Sugita"), ["Kisuke Sugita"]);
    assert_eq!(person("Summer is from Acme Holdings Ltd."), ["Summer"]);
    // Not a firm (no legal form), not a brand, not a question for a name.
    no_person(&[
        "Summer from the Auckland area rang.",
        "Dell from Round Rock Ltd shipped it.",
        "Is it done? Kisuke said no.",
    ]);
}

#[test]
fn greek_names_romanised_and_a_report_after_a_common_word_given_name() {
    assert_eq!(
        person("Dimitrios Papadakis reported it missing."),
        ["Dimitrios Papadakis"]
    );
    assert_eq!(
        person("Miles Okonjo reports that Outlook stops syncing."),
        ["Miles Okonjo"]
    );
    // Not a person: a distance, and a brand's report.
    no_person(&["Miles reports are due Friday.", "Dell reports a fault."]);
}

#[test]
fn postcodes_named_anywhere_on_their_line_and_a_house_number_after_address() {
    assert_eq!(
        of_kind(
            "Postcode lookup is failing in the CRM for EH9 1HE and G12 8QQ.",
            "POSTCODE"
        ),
        ["EH9 1HE", "G12 8QQ"]
    );
    assert_eq!(
        of_kind(
            "The Eircode was missing from the label; it's D08 YK50.",
            "POSTCODE"
        ),
        ["D08 YK50"]
    );
    assert_eq!(
        of_kind("Postcodes 6000 and 6005 are metro.", "POSTCODE"),
        ["6000", "6005"]
    );
    assert_eq!(
        entities("Our postal address is 1288 Kaipara Coast Highway, RD 4, Warkworth 0984."),
        [(
            "ADDRESS".to_owned(),
            "1288 Kaipara Coast Highway, RD 4, Warkworth 0984".to_owned()
        )]
    );
    // The word on another line, or a digit code far from it, names nothing.
    assert_eq!(
        of_kind("Postcode lookup\nRef EH9 1HE", "POSTCODE"),
        Vec::<String>::new()
    );
    assert_eq!(
        of_kind(
            "Postcode lookup failed.\nTicket 1200 is closed.",
            "POSTCODE"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn rooms_and_sites_named_like_people_and_cities_that_are_given_names() {
    no_person(&[
        "The Collins and Bourke meeting rooms both have broken cables.",
        "Site details:\nName: Awhitu Depot\nAddress: none",
        "Bremen and Kiel are on client 200.",
    ]);
    // A surname that is a site word stays a name; people before a verb
    // stay people.
    assert_eq!(person("Name: Harriet Ward\nPlan: gold"), ["Harriet Ward"]);
    assert_eq!(
        person("Collins and Bourke met the auditors."),
        ["Collins", "Bourke"]
    );
    assert_eq!(person("Trần Minh Khoa cannot log in."), ["Trần Minh Khoa"]);
    assert_eq!(person("Please ask Sarah and Tom."), ["Sarah", "Tom"]);
}

#[test]
fn headers_introductions_belongings_and_three_part_filipino_names() {
    assert_eq!(
        person("From: Frank Delacroix\nTo: Service Desk"),
        ["Frank Delacroix"]
    );
    assert_eq!(
        person("FROM: FRANK DELACROIX\nTO: HELPDESK"),
        ["FRANK DELACROIX"]
    );
    assert_eq!(
        person("Hi all, Summer from Head Office here, can someone help?"),
        ["Summer"]
    );
    assert_eq!(person("Headset ordered for Jack's desk."), ["Jack"]);
    assert_eq!(
        person("Please add Jose Rizalino Bautista to the VPN group."),
        ["Jose Rizalino Bautista"]
    );
    assert_eq!(
        person("Full name: Ah-young Park\nStreet: 4 Elm Road"),
        ["Ah-young Park"]
    );
    // Teams in a header, a phone jack, a park, a firm: no one.
    no_person(&[
        "From: IT Support\nTo: Service Desk",
        "The phone jack behind the desk is loose.",
        "Meet at Hyde Park tomorrow.",
        "Summer from the Auckland area rang.",
    ]);
}

#[test]
fn a_spaced_suite_dash_and_an_eircode_on_the_line_after_the_district() {
    assert_eq!(
        of_kind(
            "Street: 1105 - 1088 Richards Street, Vancouver, BC V6B 3E1\nPhone: 1",
            "ADDRESS"
        ),
        ["1105 - 1088 Richards Street, Vancouver, BC V6B 3E1"]
    );
    assert_eq!(
        of_kind(
            "Ship to:\nApt 3B, 118 Baggot Street Lower\nDublin 2\nD02 F827\nIreland",
            "ADDRESS"
        ),
        ["Apt 3B, 118 Baggot Street Lower\nDublin 2\nD02 F827"]
    );
    // A dash after a word is no suite's.
    assert_eq!(
        of_kind("Ref A1105 - 1088 Richards Street", "ADDRESS"),
        ["1088 Richards Street"]
    );
}

#[test]
fn names_in_a_line_of_capitals_before_a_stop_word() {
    assert_eq!(
        person("URGENT - PRIYA NAIR IN ACCOUNTS CANNOT ACCESS THE SHARED MAILBOX."),
        ["PRIYA NAIR"]
    );
    no_person(&["JAMES COOK UNIVERSITY IN TOWNSVILLE IS CLOSED."]);
}

/// Indian, Shona, Ethiopian and Filipino names of the hand-written lists
/// (`scripts/names-data`), and the Filipino particle `dela`.
#[test]
fn people_of_the_ninth_rounds_names() {
    assert_eq!(
        person("Arjun wants Sanjeev added as a delegate."),
        ["Arjun", "Sanjeev"]
    );
    assert_eq!(
        person("From: Maricel dela Cruz\nSent: Tuesday"),
        ["Maricel dela Cruz"]
    );
    assert_eq!(
        person("Hi po, still not printing. Salamat, Maricel"),
        ["Maricel"]
    );
    assert_eq!(
        person("Loaner laptop issued to Tendai Moyo and Tigist Bekele."),
        ["Tendai Moyo", "Tigist Bekele"]
    );
    // `dela` alone is no name.
    no_person(&["The dela of the build is long."]);
}

#[test]
fn whom_a_ticket_is_for_and_who_did_it() {
    assert_eq!(
        person("Ticket raised on behalf of Tendai Moyo by Abebe Girma."),
        ["Tendai Moyo", "Abebe Girma"]
    );
    assert_eq!(person("Refund approved by Faith."), ["Faith"]);
    assert_eq!(person("Escalated by Will this morning."), ["Will"]);
    // Teams, products, job titles and other verbs: no one.
    no_person(&[
        "Escalated by Finance; reported by Microsoft Defender.",
        "Your request has been approved by Line Manager.",
        "Covered by Medicare, paid by Visa.",
        "Sent on behalf of Contoso Pharmaceuticals.",
    ]);
}

#[test]
fn pronouns_honorifics_and_belongings_after_a_name() {
    assert_eq!(
        person("Jordan (he/him) from the Galway team says hi."),
        ["Jordan"]
    );
    assert_eq!(person("Summer (she/they) will cover."), ["Summer"]);
    assert_eq!(
        person("Haruka Yamamoto-san reported that the VPN is down."),
        ["Haruka Yamamoto"]
    );
    assert_eq!(person("Tanaka-san called about the VPN."), ["Tanaka"]);
    assert_eq!(person("Is Grace's account locked?"), ["Grace"]);
    assert_eq!(person("His PA Layla will sign for it."), ["Layla"]);
    // A product after a name, an honorific glued to no name, a place's
    // account, a PA system: no one.
    no_person(&[
        "Jordan (the country) is out of scope.",
        "The Sansan-san account.",
        "The PA system in Hall B is broken.",
        "Check the Amazon's account settings.",
    ]);
}

#[test]
fn a_german_article_is_no_part_of_a_firm() {
    let orgs = |t: &str| of_kind(t, "ORGANIZATION");
    assert_eq!(
        orgs("Die Stahlberg AG hat den Vertrag gekündigt."),
        ["Stahlberg AG"]
    );
    // French articles start names.
    assert_eq!(
        orgs("Invoice from La Trobe Financial Ltd attached."),
        ["La Trobe Financial Ltd"]
    );
}

#[test]
fn compass_points_welsh_street_types_and_a_code_before_its_place() {
    let addresses = |t: &str| of_kind(t, "ADDRESS");
    assert_eq!(
        addresses("Ship to 5522 N. Winthrop Ave., Apt. 2, Chicago, IL 60640 attn Malik."),
        ["5522 N. Winthrop Ave., Apt. 2, Chicago, IL 60640"]
    );
    assert_eq!(
        addresses("DELIVER TO: 58 KING STREET WEST, UNIT 1203, TORONTO ON M5H 1B5 - CALL"),
        ["58 KING STREET WEST, UNIT 1203, TORONTO ON M5H 1B5"]
    );
    assert_eq!(
        addresses("Collect from 12 Heol Isaf, Cardiff CF14 3AB on Monday."),
        ["12 Heol Isaf, Cardiff CF14 3AB"]
    );
    assert_eq!(
        of_kind("Freight for postcode 9016 (Dunedin) is $42.", "POSTCODE"),
        ["9016"]
    );
    // Not an initial of a compass point, not a Welsh type alone, and a
    // phone's area code still reads as a phone.
    assert_eq!(
        addresses("Rows 12 B. Winthrop Ave are shut."),
        Vec::<String>::new()
    );
    assert_eq!(addresses("Order 12 Heol cables."), Vec::<String>::new());
    let phones: Vec<_> = Detector::new()
        .detect("Call 1 (715) 498-4177 now")
        .into_iter()
        .filter(|f| f.kind == Kind::Phone)
        .map(|f| (f.start, f.end))
        .collect();
    assert_eq!(phones, [(5, 21)]);
}

/// Every lower-case particle or connector begins with a pair that
/// `small_word_pair` lets through (its test skips the others unmeasured).
#[test]
fn the_small_word_filter_passes_every_small_word() {
    let mut w = Vec::new();
    for len in 2..=4u32 {
        for n in 0..26usize.pow(len) {
            w.clear();
            let mut k = n;
            for _ in 0..len {
                w.push(b'a' + (k % 26) as u8);
                k /= 26;
            }
            if super::small_word(&w).is_some() {
                assert!(super::small_word_pair(&w, 0), "{w:?}");
            }
        }
    }
    for five in [&b"della"[..], b"binti", b"delos"] {
        assert!(super::small_word(five).is_some() && super::small_word_pair(five, 0));
    }
    assert!(!super::small_word_pair(b"the", 0) && !super::small_word_pair(b"customer", 0));
}

/// Where `ends_run_after_space` calls a capitalised word alone, the run
/// that `collect_run` gathers is that word alone, and no table's bar
/// follows it: every byte after the space, before many continuations.
#[test]
fn a_run_ends_where_the_byte_after_its_space_says() {
    for word in ["Order", "Mr", "IBM", "McDonald", "Sarah", "St", "GmbH"] {
        for c in 0..=255u8 {
            if c.is_ascii_lowercase() || !super::ends_run_after_space(c) {
                continue;
            }
            for rest in [
                &b""[..],
                b"Smith",
                b" Smith",
                b"and Smith",
                b"12 Main St",
                b"| x",
            ] {
                let mut text = format!("{word} ").into_bytes();
                text.push(c);
                text.extend_from_slice(rest);
                let Some(first) = super::capital_word(&text, 0) else {
                    panic!("{word}");
                };
                let mut run = super::Run {
                    words: [super::Word::NONE; super::MAX_RUN],
                    n: 1,
                };
                run.words[0] = first;
                super::collect_run(&text, &mut run);
                assert_eq!(run.n, 1, "{text:?}");
                assert!(!text[first.end..].starts_with(b" |"), "{text:?}");
            }
        }
    }
    // The end of the text after the space: the run ends too.
    let text = b"Order ";
    let mut run = super::Run {
        words: [super::Word::NONE; super::MAX_RUN],
        n: 1,
    };
    run.words[0] = super::capital_word(text, 0).unwrap_or(super::Word::NONE);
    super::collect_run(text, &mut run);
    assert_eq!((run.n, run.words[0].end), (1, 5));
}

/// `capital_word`'s inline test (an ASCII byte that is no capital starts
/// no word) answers as the word's reading does, at every byte of random
/// texts of letters, marks and multi-byte capitals.
#[test]
fn capital_word_inline_answers_as_its_reading() {
    const PIECES: [&str; 16] = [
        "Sarah",
        "van",
        "de",
        " ",
        "&",
        "McDonald",
        "IBM",
        "J.",
        "\u{2bb}Ana",
        "\u{c9}mile",
        "O'Brien",
        "-",
        "12",
        "x@y",
        "Smith-Jones",
        "\n",
    ];
    let mut x: u64 = 0xCA91_7A1E_0D5E_ED42;
    let mut some = 0;
    for _ in 0..5_000 {
        let n = 1 + (crate::xorshift(&mut x) % 8) as usize;
        let text: String = (0..n)
            .map(|_| PIECES[(crate::xorshift(&mut x) % PIECES.len() as u64) as usize])
            .collect();
        let b = text.as_bytes();
        for i in 0..=b.len() {
            let inline = super::capital_word(b, i);
            let read = if i < b.len() {
                super::capital_word_at(b, i)
            } else {
                None
            };
            assert_eq!(
                format!("{inline:?}"),
                format!("{read:?}"),
                "{text:?} at {i}"
            );
            some += usize::from(inline.is_some());
        }
    }
    assert!(some > 1_000, "{some}");
}

#[test]
fn swiss_and_austrian_addresses_with_four_digit_codes() {
    let addresses = |t: &str| of_kind(t, "ADDRESS");
    assert_eq!(
        addresses("Die Lieferung an Seestrasse 88, 8802 Kilchberg ist nicht angekommen."),
        ["Seestrasse 88, 8802 Kilchberg"]
    );
    assert_eq!(
        addresses("Arbeitsort: Wiedner Hauptstraße 120/2/14, 1050 Wien\nVorgesetzter: X"),
        ["Wiedner Hauptstraße 120/2/14, 1050 Wien"]
    );
    assert_eq!(
        addresses("Rechnungen an Postfach 512, 3000 Bern 7.\nGrüsse"),
        ["Postfach 512, 3000 Bern 7"]
    );
    // A German code keeps its five digits; a year after a street with no
    // number is no address.
    assert_eq!(
        addresses("Hauptstraße 12, 10115 Berlin"),
        ["Hauptstraße 12, 10115 Berlin"]
    );
    assert_eq!(
        addresses("Im Jahr 2024, 1050 Mitarbeiter."),
        Vec::<String>::new()
    );
}

#[test]
fn towns_before_a_state_rooms_titles_and_empty_fields_are_no_people() {
    no_person(&[
        "We deliver to Bondi NSW 2026, Coogee NSW 2034 and more.",
        "Midwest Home Care Partners, Inc.\nColumbus OH 43219",
        "not the one in the Kate Sheppard rm. driver reinstall",
        "Assignee: Unassigned\nReporter: svc-monitoring",
    ]);
    assert_eq!(
        person("Name: Mag. Katharina Pölzl\nEintritt: 01.10."),
        ["Katharina Pölzl"]
    );
    // A name before a state word with no code, and a person named in a
    // field, still count.
    assert_eq!(person("Ask Sarah Columbus about it."), ["Sarah Columbus"]);
    assert_eq!(person("Assignee: Tama Ngata\nReporter: x"), ["Tama Ngata"]);
}

#[test]
fn a_german_word_for_a_firms_relation_is_no_part_of_its_name() {
    let orgs = |t: &str| of_kind(t, "ORGANIZATION");
    assert_eq!(
        orgs("die neue Tochtergesellschaft Saanenland Tourismus GmbH. Die"),
        ["Saanenland Tourismus GmbH"]
    );
    assert_eq!(
        orgs("Betroffen sind alle Standorte der Nordlicht Energie AG sowie"),
        ["Nordlicht Energie AG"]
    );
}

#[test]
fn a_role_noun_or_a_verb_before_a_name_is_no_part_of_it() {
    assert_eq!(
        person("Call Nurse Sean Fitzgerald today."),
        ["Sean Fitzgerald"]
    );
    assert_eq!(person("Call Sean Fitzgerald today."), ["Sean Fitzgerald"]);
    assert_eq!(
        person("Referred by: Attorney Sean Fitzgerald\nFirm: Lane LLP"),
        ["Sean Fitzgerald"]
    );
    assert_eq!(
        person("Referred by: Engineer Sean Fitzgerald\nFirm: X"),
        ["Sean Fitzgerald"]
    );
    // A surname that is also such a verb, after a title, is the name.
    assert_eq!(person("Mr Call will ring back."), ["Call"]);
    no_person(&["Regards,\nPayroll Services", "Call Centre hours changed."]);
}

#[test]
fn software_things_holidays_and_place_prefixes_named_like_people() {
    no_person(&[
        // Software: a version, a word for software, a field of things.
        "The Julia notebooks on the analytics server are failing (Julia 1.10.4).",
        "Hudson legacy plugin is still installed on the agent.",
        "Julia and Ada toolchains stay on the build farm.",
        "Some Hudson-era jobs call scripts on the old share.",
        "Software: Python, Julia, RStudio",
        "Product: La Rosa 2-group machine, serial LR2-00817",
        // A French article, and `Max` as an abbreviation.
        "Les colis destinés aux codes postaux G0A 1E0 et G0X 2T0 sont en retard.",
        "Max. Gewicht pro Palette: 800 kg.",
        "Max balance per order is $500.",
        // A holiday, a saint's town, a Welsh house, an Irish building.
        "The office is closed for Martin Luther King Jr. Day on Monday.",
        "Ship to 1 Brookings Dr, St. Louis, MO 63130.",
        "Address: Tŷ Gwyn, 3 Heol y Bryn, Llanrug",
        "Room A2.14, Áras na Gaeilge.",
    ]);
    // The near misses: people.
    assert_eq!(person("Julia will send the notebooks today."), ["Julia"]);
    assert_eq!(
        person("Notes: Python is fine, Julia Nowak will update it."),
        ["Julia Nowak"]
    );
    assert_eq!(person("Name: Seo-yeon Kim\nTeam: X"), ["Seo-yeon Kim"]);
    assert_eq!(
        person("Les Murray called about the invoice."),
        ["Les Murray"]
    );
    assert_eq!(person("Max will call you tomorrow."), ["Max"]);
    assert_eq!(person("Hi Martin, see you on Day 2."), ["Martin"]);
    assert_eq!(person("Ask Louis about the St. Kilda site."), ["Louis"]);
    assert_eq!(person("Hi Gwyn, the printer is fixed."), ["Gwyn"]);
}

#[test]
fn surname_first_names_unknown_surnames_and_an_okina() {
    // Surname, comma, given names, ending the field.
    assert_eq!(person("Assigned to: Nguyen, Thi Lan"), ["Nguyen, Thi Lan"]);
    assert_eq!(
        person("Work notes (added by Nguyen, Thi Lan 2024-09-05 10:02:14)"),
        ["Nguyen, Thi Lan"]
    );
    // Not before a number that is no date: `Tor 3` is a gate.
    assert_eq!(
        person("Ansprechpartner Herr Kowalski, Tor 3."),
        ["Kowalski"]
    );
    // After context, surnames the gazetteer does not hold end the field.
    assert_eq!(
        person("Customer: Mary Jane Bearspaw\nSite: Box 1440"),
        ["Mary Jane Bearspaw"]
    );
    assert_eq!(
        person("Tenant: Mohammed Rafiqul Islam\nProperty: Flat 11"),
        ["Mohammed Rafiqul Islam"]
    );
    assert_eq!(
        person("I'm writing for my mother, Rosa Elena Quispe Huamán. She ordered it."),
        ["Rosa Elena Quispe Huamán"]
    );
    assert_eq!(
        person("Customer: Ravinesh Prasad\nOrder: 55812"),
        ["Ravinesh Prasad"]
    );
    // Not a trade's word.
    assert_eq!(
        person("Contact: Sarah Jones Consulting\nPhone: x"),
        ["Sarah Jones"]
    );
    // A particle before a title is a preposition (`von Herrn`).
    assert_eq!(
        person("die Erneuerung war im Kalender von Herrn Huber eingetragen"),
        ["Huber"]
    );
    assert_eq!(person("Ludwig van Beethoven"), ["Ludwig van Beethoven"]);
    // Capitals: initials inside, a verb ends the name.
    assert_eq!(
        person("EMPLOYEE: MARCUS J. WASHINGTON\nDEPT: WAREHOUSE OPS"),
        ["MARCUS J. WASHINGTON"]
    );
    assert_eq!(
        person("CALL 14:05: MRS FITZPATRICK-HAYES CONFIRMS COLLECTED, THANKS."),
        ["FITZPATRICK-HAYES"]
    );
    // The ʻokina is the name's.
    assert_eq!(
        person("Could you send it to my sister ʻAna Fifita instead?"),
        ["ʻAna Fifita"]
    );
    no_person(&["The ʻokina is a letter."]);
}

#[test]
fn land_lots_lower_case_levels_units_before_units_and_saints_towns() {
    assert_eq!(
        address("Physical deliveries: Lot 22 Stuart Highway, Katherine NT 0850. Thanks"),
        ["Lot 22 Stuart Highway, Katherine NT 0850"]
    );
    assert_eq!(
        address("moved to lvl 2, 150 Willis St, Te Aro, Wellington 6011 last wk"),
        ["lvl 2, 150 Willis St, Te Aro, Wellington 6011"]
    );
    assert_eq!(
        address("Delivery address: Unit 3\n27 Bairds Road\nŌtara\nAuckland 2023\nNew Zealand"),
        ["Unit 3\n27 Bairds Road\nŌtara\nAuckland 2023"]
    );
    assert_eq!(
        address("Address: Apartment 23, Block B, The Gasworks, Barrow Street, Dublin 4, D04 T6X0"),
        ["Apartment 23, Block B, The Gasworks, Barrow Street, Dublin 4, D04 T6X0"]
    );
    assert_eq!(
        address("Mail it to Suite 412, 1 Brookings Dr, St. Louis, MO 63130."),
        ["Suite 412, 1 Brookings Dr, St. Louis, MO 63130"]
    );
    // The near misses: a lower-case label only before a number (`flat
    // at`); `lot` in lower case is a word, not a land lot.
    assert_eq!(
        address("The flat at 2F1, 17 Marchmont Crescent, Edinburgh EH9 1HG leaks."),
        ["2F1, 17 Marchmont Crescent, Edinburgh EH9 1HG"]
    );
    assert_eq!(
        address("They moved a lot 22 Stuart Highway, Katherine NT 0850 says."),
        ["22 Stuart Highway, Katherine NT 0850"]
    );
}

#[test]
fn surname_first_in_lists_and_tables() {
    // A field of a quoted CSV, a `|` table, a numbered list, a dashed
    // subject: one person, particles and all.
    assert_eq!(
        person(
            "\"Surname, First\",\"Dept\"\n\"van der Berg, Pieter\",\"Finance\"\n\"de la Cruz, Maria\",\"HR\"\n\"Nguyễn, Thị Lan\",\"Payroll\""
        ),
        [
            "van der Berg, Pieter",
            "de la Cruz, Maria",
            "Nguyễn, Thị Lan"
        ]
    );
    assert_eq!(
        person("1041|Harper, Quinn|31 Rose Street"),
        ["Harper, Quinn"]
    );
    assert_eq!(
        person("Approvals:\n1. Wong, Kelvin — Approved\n2. Abernethy, Fiona — Pending"),
        ["Wong, Kelvin", "Abernethy, Fiona"]
    );
    assert_eq!(
        person("Request for access – MacKenzie, Iain – Payroll."),
        ["MacKenzie, Iain"]
    );
    // The near misses: a place and its state; a firm's names; a surname
    // and a given name in mid-sentence.
    no_person(&[
        "Hamilton, Victoria\n",
        "\"Smith, Jones and Partners\",\"Legal\"",
        "Die Standorte der Berg, Maria sagt",
    ]);
}

#[test]
fn contacting_verbs_surnames_after_a_label_and_lettered_units() {
    assert_eq!(
        person("Query? Ring Jarrah Wilson on 08 8952 0000."),
        ["Jarrah Wilson"]
    );
    assert_eq!(
        person("Customer: Gethin Lloyd, tel 029 2018 0044."),
        ["Gethin Lloyd"]
    );
    assert_eq!(person("Hi Ring, thanks."), ["Ring"]);
    assert_eq!(
        address("Return address:\nUnit B\n14 Rutherford Street\nLower Hutt 5010\nAttn: X"),
        ["Unit B\n14 Rutherford Street\nLower Hutt 5010"]
    );
    assert_eq!(
        address("Ship to 2550 Pearl St #210, Boulder, CO 80302."),
        ["2550 Pearl St #210, Boulder, CO 80302"]
    );
    assert_eq!(
        address("DELIVER TO: 12 MAIN STREET, ENNIS, CO. CLARE, V95 X2Y3\nSENDER: X"),
        ["12 MAIN STREET, ENNIS, CO. CLARE, V95 X2Y3"]
    );
    // The near misses: a word on the line before is no unit; a hash
    // before no number is no unit.
    assert_eq!(
        address("Return address:\nUnits\n14 Rutherford Street\nLower Hutt 5010"),
        ["14 Rutherford Street\nLower Hutt 5010"]
    );
    assert_eq!(
        address("Ship to 2550 Pearl St #urgent, Boulder, CO 80302."),
        ["2550 Pearl St"]
    );
    no_person(&["The ship docked at Spencer Dock yesterday."]);
}

#[test]
fn mentions_initials_in_capitals_and_systems_teams_and_ships() {
    assert_eq!(
        person("Comment:\n@Jordan Ellis can you pair on this?"),
        ["Jordan Ellis"]
    );
    assert_eq!(person("@Will can you check?"), ["Will"]);
    assert_eq!(
        person("ATTN: MRS J PATEL\nRE: RETURNED HARDWARE\nPLEASE CONFIRM RECEIPT TO MR D PATEL."),
        ["J PATEL", "D PATEL"]
    );
    // (The speaker's label in lower case is a person; `Hudson` is not.)
    assert_eq!(
        person("sarah: can you restart Hudson? the build box"),
        ["sarah"]
    );
    no_person(&[
        "Team Kererū owns the Ansible work and Team Hudson the CI.",
        "The container is on the MSC Isabella, ETA 12 March.",
        "Subject: Access to Miro board for the design team",
        "Bonjour,\nLes fichiers partagés ne s'ouvrent plus depuis lundi.",
        // An email's domain is no mention.
        "Mail me at x@Sarah.example.com today.",
    ]);
    // The near misses: two people addressed before a dash (no surname
    // first), a person after `team` in lower case.
    assert_eq!(
        person("Andrew, Sinéad — can you confirm? Tomás is on leave."),
        ["Andrew", "Sinéad", "Tomás"]
    );
    assert_eq!(
        person("Thanks to the team and Sarah Jones for the fix."),
        ["Sarah Jones"]
    );
}

#[test]
fn brands_after_the_counties_suburbs_by_postcode_and_french_pronouns() {
    no_person(&[
        "Please restock the Mr Sheen and Jif in the kitchen.",
        "The Dr Pepper machine near the Curie room is eating coins.",
        "The Ted Baker and Calvin Klein shelf tickets print in the wrong font.",
        "Our Kerry and Clare shops both can't print.",
        "Fibre outage for Ponsonby, Auckland 1011 and Grey Lynn 1021, ETA 4pm.",
    ]);
    assert_eq!(
        person("Mme Lavoie n'a plus accès au dossier. Elle travaille maintenant au bureau 4."),
        ["Lavoie"]
    );
    assert_eq!(
        person("Ship to Ennis, Co. Clare V95 T2K4 for Aoife."),
        ["Aoife"]
    );
    assert_eq!(
        person("Ansprechpartnerin: Petra Krüger, Vertretung Uwe Lorenz"),
        ["Petra Krüger", "Uwe Lorenz"]
    );
    // The near misses: a title after `an` or `that` (German `an Frau`,
    // `note that Mr Lee`); an amount after a name; people before a room
    // word with no determiner are still read one by one.
    assert_eq!(person("Rückruf bitte an Frau Vogt."), ["Vogt"]);
    assert_eq!(person("Note that Mr Lee prefers email."), ["Lee"]);
    assert_eq!(
        person("Paid Sarah Jones 2500 for the job."),
        ["Sarah Jones"]
    );
}

#[test]
fn nz_boxes_park_drives_scottish_braes_and_postcodes_under_a_header() {
    assert_eq!(
        address("NZ Post couldn't deliver to PO Box 12-345, Wellington 6144 - box closed."),
        ["PO Box 12-345, Wellington 6144"]
    );
    assert_eq!(
        address("Ship to: 4410 Commerce Park Dr, Suite 120, Tyler, TX 75703\nPhone: x"),
        ["4410 Commerce Park Dr, Suite 120, Tyler, TX 75703"]
    );
    assert_eq!(
        address("SHIP TO: 4 KIRK BRAE, PORTREE IV51 9DR\nUNITED KINGDOM"),
        ["4 KIRK BRAE, PORTREE IV51 9DR"]
    );
    // `Dr` after a street type is a title before a name.
    assert_eq!(
        address("Visit 12 Main St Dr Jones is there"),
        ["12 Main St"]
    );
    // A CSV header's `postcode` names its column, not the first cell of
    // the next line; a label on the line above does.
    let postcodes = |t: &str| of_kind(t, "POSTCODE");
    assert_eq!(
        postcodes("ticket_id,requester,postcode\n48812,Olivia Tan,4000"),
        ["4000"]
    );
    assert_eq!(postcodes("Postcode:\n6011"), ["6011"]);
    // An empty field is no person in a table's person column.
    assert_eq!(
        person("ticket_id,requester,assignee\n48814,Kate Sutherland,unassigned"),
        ["Kate Sutherland"]
    );
    // In capitals, a firm's name starts after a preposition.
    assert_eq!(
        of_kind(
            "PARTS SUPPLIED BY WESSEX IMAGING SOLUTIONS LTD.",
            "ORGANIZATION"
        ),
        ["WESSEX IMAGING SOLUTIONS LTD"]
    );
    assert_eq!(
        of_kind("BANK OF IRELAND GROUP PLC", "ORGANIZATION"),
        ["BANK OF IRELAND GROUP PLC"]
    );
}

#[test]
fn trades_before_names_plural_streets_rooms_and_german_seasons() {
    assert_eq!(
        person("Reported by: Chef Basil Mendes\nThe pump tripped."),
        ["Basil Mendes"]
    );
    assert_eq!(
        person("Driver Séamus Ó Briain says the pins are wrong."),
        ["Séamus Ó Briain"]
    );
    no_person(&[
        "We've got two Victoria Streets in the system.",
        "Lieu : salle Jean-Talon, 3e étage",
        "Im Winter war es kalt, jetzt im Sommer zu warm.",
        "2. Murphy's law: the backup failed the night before.",
    ]);
    assert_eq!(
        address("Please re-deliver to 5600 Wilson Road, Suite B, Columbus, OH 43204."),
        ["5600 Wilson Road, Suite B, Columbus, OH 43204"]
    );
    // The near misses: a person after `im` and a title; `Winter` after a
    // title; a possessive before a belonging.
    assert_eq!(
        person("die Erneuerung war im Kalender von Herrn Huber eingetragen"),
        ["Huber"]
    );
    assert_eq!(person("Hallo Frau Winter, danke."), ["Winter"]);
    assert_eq!(person("Murphy's laptop is broken."), ["Murphy"]);
}

#[test]
fn long_street_names_saints_towns_storms_german_articles_and_devices() {
    assert_eq!(
        address(
            "The clinic at 2300 Martin Luther King Jr Blvd, Suite 5, Houston, TX 77004 is closed."
        ),
        ["2300 Martin Luther King Jr Blvd, Suite 5, Houston, TX 77004"]
    );
    assert_eq!(
        address("Hospital: 750 Great Northern Road, Sault Ste. Marie, ON P6B 0A8. Biomed on call."),
        ["750 Great Northern Road, Sault Ste. Marie, ON P6B 0A8"]
    );
    assert_eq!(
        address("SOUTHERN CROSS AGRICULTURE PTY LTD – PO BOX 312, NARRABRI NSW 2390"),
        ["PO BOX 312, NARRABRI NSW 2390"]
    );
    no_person(&[
        "The Sault Ste. Marie site is down.",
        "Offices are closed due to Cyclone Gabrielle this week.",
        "Punkt 1: Der Zimmermann hat die Tür im Lager repariert.",
        "Bitte ins Lager Nord liefern.",
    ]);
    assert_eq!(person("Clerk Vernon Tyler called it in."), ["Vernon Tyler"]);
    let orgs = |t: &str| of_kind(t, "ORGANIZATION");
    assert_eq!(
        orgs("Delivery contractor: Auckland Home Delivery Services Ltd.\nStore: x"),
        ["Auckland Home Delivery Services Ltd"]
    );
    for device in [
        "Separately, the new USB DAC in the podcast booth isn't recognised.",
        "Hi, the Siemens PLC on the irrigation pump keeps tripping.",
        "Our Adelaide S.A. 5000 office needs 12 headsets.",
    ] {
        assert_eq!(orgs(device), Vec::<String>::new(), "{device:?}");
    }
    // The near misses: a storm's name as a person's; a firm with `PLC`
    // and `S.A.` of more words, or not after `the`.
    assert_eq!(
        person("Cyclone Gabrielle – Gabrielle Tuhiwai from Napier will cover."),
        ["Gabrielle Tuhiwai"]
    );
    assert_eq!(
        orgs("Carraig Data Services DAC is the vendor; Banco Santander S.A. the bank."),
        ["Carraig Data Services DAC", "Banco Santander S.A."]
    );
}

#[test]
fn roles_months_plural_sites_particles_codes_in_brackets_and_common_words_named() {
    // Roles that are surnames too, before a name; the near miss keeps the
    // surname after a given name.
    assert_eq!(
        person("Foreman Ashley Kerins signed the diary."),
        ["Ashley Kerins"]
    );
    assert_eq!(
        person("Judge Helen Adeyemi needs her printer."),
        ["Helen Adeyemi"]
    );
    assert_eq!(
        person("Please call Simone Porter about it."),
        ["Simone Porter"]
    );
    // A German month after a preposition of time; the near miss: the same
    // given name after `mit`.
    no_person(&[
        "Sie ist ab Mai im Homeoffice.",
        "Das Projekt läuft bis August.",
    ]);
    assert_eq!(person("Das Meeting ist mit Mai Tran."), ["Mai Tran"]);
    // Names of two words joined before a plural site word name sites; the
    // near miss: before no such word, they are people.
    no_person(&[
        "We moved Glen Innes and Henderson sites to the new WAN.",
        "Staff at Charles Sturt and Edith Cowan universities are affected.",
    ]);
    assert_eq!(
        person("Attendees: Emma Stone and Oliver Reed reviewed it."),
        ["Emma Stone", "Oliver Reed"]
    );
    // A capitalised particle, a given name and a surname the gazetteer
    // lacks: the whole name; the near miss: with a known surname.
    assert_eq!(
        person("Present: Te Rangi Parekowhai, Leilani"),
        ["Te Rangi Parekowhai", "Leilani"]
    );
    assert_eq!(
        person("Present: Te Rangi Smith, Leilani"),
        ["Te Rangi Smith", "Leilani"]
    );
    // A code in brackets after a postcode word is a postcode; the near
    // miss: a phone's area code in brackets stays the phone's.
    let postcode = |t: &str| of_kind(t, "POSTCODE");
    assert_eq!(
        postcode("The Geelong office (postcode 3220) is down."),
        ["3220"]
    );
    assert_eq!(postcode("Dispatch is in Denver (ZIP 80202)."), ["80202"]);
    assert_eq!(
        postcode("Call (0412) 555 019 after lunch."),
        Vec::<String>::new()
    );
    // A common word named earlier in the text as a person's, again in
    // mid-sentence before a stop or a joining word; the near misses: the
    // same word before a noun, and a brand.
    assert_eq!(
        person("Rose Nakamura ran the audit. Send the notes to Rose and Ivan."),
        ["Rose Nakamura", "Rose", "Ivan"]
    );
    assert_eq!(
        person("Summer Okafor asked whether the Summer roster is final."),
        ["Summer Okafor"]
    );
    assert_eq!(
        person("Alexa Moreno set up the kitchen Alexa so it wakes us."),
        ["Alexa Moreno"]
    );
}

#[test]
fn people_named_in_lower_case_in_informal_lines() {
    // A speaker's label, and a cue before a given name that is no common
    // word; the near misses: a user name, a label that is no name, a
    // greeting before a word that is no name.
    assert_eq!(
        person("ben: proxy category changed\nkate: fixed, thanks ben"),
        ["ben", "kate", "ben"]
    );
    assert_eq!(
        person("[10:42] customer: hi its priya from accounts, my vpn is down"),
        ["priya"]
    );
    assert_eq!(
        person("agent tania: hi hemi, which building?"),
        ["tania", "hemi"]
    );
    no_person(&[
        "tom.b: yep, nagios shows the same",
        "note: restart the vm after the patch",
        "hi team, which building are you in?",
    ]);
    // A given name and a surname side by side; two names joined by `and`;
    // a possessive; a signature after a comma.
    assert_eq!(
        person("pls reset mfa for brodie smith, both on new phones"),
        ["brodie smith"]
    );
    // (A surname that is a common word too joins only at a clause's end:
    // `tell ravi back`, not `ravi back`.)
    assert_eq!(person("ok tell ravi back on monday"), ["ravi"]);
    assert_eq!(
        person("can u add jess and tom o'brien to the rostering dl"),
        ["jess", "tom o'brien"]
    );
    assert_eq!(person("also jess's badge doesnt open ward 5"), ["jess"]);
    assert_eq!(
        person("printer jammed again on level 2. thx, ravi"),
        ["ravi"]
    );
    // The near misses: common words that are names too used as words
    // (`will`, `grace`; greeted alone, `hi will,`, one is a name: see
    // `lower_case_common_word_names_only_when_plainly_named`), a short
    // word of German beside a name, and a line whose sentences start with
    // capitals (read by the capitalised pass alone).
    no_person(&[
        "hi, will the grace period end on friday",
        "kann kai das bitte prüfen?",
        "The printer jammed. Please ask tania to call the vendor.",
    ]);
}

#[test]
fn german_contact_word_whole_street_words_plural_lanes_and_postcodes_asked_in_chat() {
    // `Kontakt` before a name is a contact word; the near miss: the noun
    // in a sentence leaves the title's name alone.
    assert_eq!(
        person("Lieferant: Rheinwerk Industrietechnik AG, Kontakt Lena Schäfer, Tel. 0711 123"),
        ["Lena Schäfer"]
    );
    assert_eq!(
        person("Bitte Kontakt aufnehmen mit Herrn Huber."),
        ["Huber"]
    );
    // A full stop after a street type written whole is the sentence's;
    // the near miss: an abbreviation keeps its own.
    assert_eq!(
        address("Please post my payslips to 45 Hunter Street. Thanks, Callum"),
        ["45 Hunter Street"]
    );
    assert_eq!(
        address("Please post them to 45 Hunter St. Thanks"),
        ["45 Hunter St."]
    );
    // `Lanes` is a street type (London's `Green Lanes`); the near miss:
    // lanes with no house number.
    assert_eq!(
        address("The van goes to 58 Green Lanes, London N16 9BS, today."),
        ["58 Green Lanes, London N16 9BS"]
    );
    assert_eq!(
        address("Two traffic Lanes are closed near the depot."),
        Vec::<String>::new()
    );
    // A chat's answer to a question for the postcode; the near miss: an
    // answer to another question.
    let postcode = |t: &str| of_kind(t, "POSTCODE");
    assert_eq!(
        postcode("10:03 Agent: can you confirm your postcode?\n10:03 Customer: B12 9QP"),
        ["B12 9QP"]
    );
    assert_eq!(
        postcode("Agent: and your ZIP code?\nVisitor (Jo): 60614\nAgent: thanks"),
        ["60614"]
    );
    assert_eq!(
        postcode("Agent: what is your order number?\nCustomer: 60614"),
        Vec::<String>::new()
    );
}

#[test]
fn lower_case_names_beside_verbs_particles_streets_and_common_surnames() {
    // A verb of saying is no name, even one that is a given name too; the
    // near miss: the names around it.
    assert_eq!(
        person("ok so farhan said ravi's on leave till tuesday"),
        ["farhan", "ravi"]
    );
    // A surname that is a street's word too ends a name introduced by a
    // cue; a particle opens none (Spanish `del`); a locality after a
    // street in lower case is no person.
    assert_eq!(
        person("hi this is min-jun park, my badge isnt working"),
        ["min-jun park"]
    );
    no_person(&[
        "el wifi del segundo piso no funciona otra vez",
        "pls send tech to 12 kauri st, glen eden, auckland 0602 modem is dead",
    ]);
}

#[test]
fn addresses_in_lower_case_in_informal_lines() {
    // A house number, street words and a type the lexicon knows, the
    // units before and after it, and localities through a postcode.
    assert_eq!(
        address(
            "kiri: can you update my address? it's lvl 2, 18 willis st, te aro, wellington 6011 now"
        ),
        ["lvl 2, 18 willis st, te aro, wellington 6011"]
    );
    assert_eq!(
        address("ship to 88 bleecker st apt 5r, new york ny 10012 thx"),
        ["88 bleecker st apt 5r, new york ny 10012"]
    );
    assert_eq!(
        address("customer: unit 6 / 22 kembla st, wollongong nsw 2500"),
        ["unit 6 / 22 kembla st, wollongong nsw 2500"]
    );
    assert_eq!(
        address("visitor: po box 3318, shortland street, auckland 1140"),
        ["po box 3318, shortland street, auckland 1140"]
    );
    // With no postcode: the street, and one locality of no common word.
    assert_eq!(
        address("ps the locker is at the 14 grey st site not herston"),
        ["14 grey st"]
    );
    assert_eq!(
        address("the courier left it at 42 darling street, balmain, but we're at number 24"),
        ["42 darling street, balmain"]
    );
    // The near misses: a type written whole before a noun, a number with
    // no street type, and words after a comma that are common words.
    assert_eq!(
        address("we need 2 new drive bays and 3 way switches"),
        Vec::<String>::new()
    );
    assert_eq!(
        address("order 12 blue cables for room 4 pls"),
        Vec::<String>::new()
    );
    assert_eq!(
        address("it's at 14 grey st, can you send someone"),
        ["14 grey st"]
    );
    // A person's name inside the address is the street's (two names side
    // by side are a person's anywhere else: the near miss).
    let street = "deliver to 12 brodie walsh street, hamilton 3204 pls";
    assert_eq!(address(street), ["12 brodie walsh street, hamilton 3204"]);
    assert_eq!(person(street), Vec::<String>::new());
    assert_eq!(person("deliver to brodie walsh pls"), ["brodie walsh"]);
}

#[test]
fn lower_case_contractions_mentions_signatures_roles_stamps_and_pairs() {
    // `it's` is no possessive: a cue; a mention opens a chat message; a
    // dash signs a line; a role in brackets and a chat's time stamp follow
    // a name; a message addressed to a name; `thanks heaps` and `hi from`.
    assert_eq!(
        person("hi it's colleen about the staff laptop order"),
        ["colleen"]
    );
    assert_eq!(
        person("@dev-ops the cert expires friday. ana said she'd renew it"),
        ["ana"]
    );
    assert_eq!(
        person("toner is low again\n- maddie, reception"),
        ["maddie"]
    );
    assert_eq!(
        person("call 9:05 - gary (site mgr) says 3 wont charge"),
        ["gary"]
    );
    assert_eq!(
        person("[14:03] marcus (support): sure, what's the new address?"),
        ["marcus"]
    );
    assert_eq!(
        person("olivia brown 4:55 PM\nheads up the scanner is down"),
        ["olivia brown"]
    );
    assert_eq!(
        person("chloe can u check if the ups is still beeping"),
        ["chloe"]
    );
    assert_eq!(
        person("can u extend my locker booking? thanks heaps jen"),
        ["jen"]
    );
    assert_eq!(
        person("hi from tilly at the op shop, the laptop wont boot"),
        ["tilly"]
    );
    assert_eq!(
        person("[08:20] fatima: greg approved it, forwarded u the email"),
        ["fatima", "greg"]
    );
    // Two given names that are no common words, joined; the near miss:
    // `max and min`.
    assert_eq!(
        person("fyi raj and meera are both out tmrw"),
        ["raj", "meera"]
    );
    no_person(&[
        "set max and min on the pool to 4",
        "salt and pepper for the kitchen",
    ]);
    // English short forms are given names (`kev`).
    assert_eq!(
        person("the macbooks came but 2 have us keyboards. cheers kev"),
        ["kev"]
    );
}

#[test]
fn lower_case_common_word_names_only_when_plainly_named() {
    // Greeted with nothing after, introduced, spoken with, speaking.
    assert_eq!(
        person("[12:02] agent: hi heather, how can i help?"),
        ["heather"]
    );
    assert_eq!(
        person("thanks will, the grace period ends on friday"),
        ["will"]
    );
    assert_eq!(
        person("hey it's chase, can someone chase up the charger"),
        ["chase"]
    );
    assert_eq!(
        person("hi its mark from the harbour st site, alarm is chirping"),
        ["mark"]
    );
    assert_eq!(
        person("voicemail: hi, this is hope calling from the front desk"),
        ["hope"]
    );
    assert_eq!(
        person("phone note: spoke w/ grace at the clinic, she wants 3"),
        ["grace"]
    );
    assert_eq!(
        person("@here the zoom room is dead? nick says the screen is blank"),
        ["nick"]
    );
    // The near misses: the words used as words, a month, a season, a
    // word that addresses anyone.
    no_person(&[
        "it's grace period till friday",
        "hi mate, it's summer here",
        "it's may, not june",
        "we hope said fix holds",
        "pls mark as resolved, the bill is paid",
    ]);
}

#[test]
fn answers_in_chat_postcode_words_counties_and_sites_in_lower_case() {
    let postcode = |t: &str| of_kind(t, "POSTCODE");
    // A name and a postcode answering the question above, and the name
    // again later.
    let chat = "agent: can i get your full name pls\ncustomer: jordan mcallister\n\
                agent: and the postcode?\ncustomer: g12 8qq\nagent: thanks jordan, found it";
    assert_eq!(person(chat), ["jordan mcallister", "jordan"]);
    assert_eq!(postcode(chat), ["g12 8qq"]);
    // The near misses: the same answers to other questions.
    let other = "agent: which team are you in pls\ncustomer: jordan mcallister\n\
                 agent: and the asset tag?\ncustomer: g12 8qq";
    assert_eq!(person(other), Vec::<String>::new());
    assert_eq!(postcode(other), Vec::<String>::new());
    // A postcode word before a code of letters and digits; the near miss:
    // another kind of code.
    assert_eq!(
        postcode("parcel stuck in laval. postal code h7n 5k3. callback tmrw"),
        ["h7n 5k3"]
    );
    assert_eq!(postcode("error code e11 1aa again"), Vec::<String>::new());
    // An Irish county closes an address; a site named by its street.
    assert_eq!(
        address("nobody was home at 9 seaview terrace, dun laoghaire, co. dublin? pls check"),
        ["9 seaview terrace, dun laoghaire, co. dublin"]
    );
    assert_eq!(
        address("wifi pw for the guest network at the 22 york street office?"),
        ["22 york street"]
    );
    assert_eq!(
        address("the 22 york street parade is on"),
        Vec::<String>::new()
    );
}

#[test]
fn lower_case_titles_askers_callers_families_and_answers_of_unknown_words() {
    // A title in lower case before names; the near misses: a verb and a
    // common word after the name end it.
    assert_eq!(
        person("note: mrs o'sullivan called abt her router again"),
        ["o'sullivan"]
    );
    assert_eq!(
        person("spoke to mr nguyen on the phone, he wants it emailed"),
        ["nguyen"]
    );
    assert_eq!(
        person("[3:04 pm] mele.s: yeah all 30. mr faleolo said it started"),
        ["faleolo"]
    );
    assert_eq!(
        person("called mr gonzalez back, he still can't print"),
        ["gonzalez"]
    );
    // `ask` and `tell` before a common word with no verb after it, `he's
    // called`, a family word, a sender's label, German `sagt` and `lg`.
    assert_eq!(
        person("can you ask will in payroll if my leave got approved?"),
        ["will"]
    );
    assert_eq!(
        person("said hes called frank but didnt leave a number"),
        ["frank"]
    );
    assert_eq!(
        person("txt from hemi: bro the eftpos keeps saying declined"),
        ["hemi"]
    );
    assert_eq!(
        person("hi, lieferung bitte morgen, danke! lg katrin"),
        ["katrin"]
    );
    assert_eq!(person("ok so sunny said no but idk"), ["sunny"]);
    no_person(&[
        "can you ask will it be fixed today",
        "it's sunny here today",
    ]);
    // An answer to a name asked for may hold a word the lexicon does not
    // know; a family word before a given name.
    assert_eq!(
        person(
            "agent: what's the name on the account?\nvisitor: chen jiahui\nvisitor: or maybe under my husband liam"
        ),
        ["chen jiahui", "liam"]
    );
}

#[test]
fn lower_case_people_in_lines_that_also_capitalise() {
    // A line that opens in lower case with words in title case: its
    // people in lower case are read, its address by the capitalised pass.
    let line =
        "hi this is sione from the warehouse, can u send it to 17 Kahu Rd, Penrose, Auckland 1061";
    assert_eq!(person(line), ["sione"]);
    assert_eq!(address(line), ["17 Kahu Rd, Penrose, Auckland 1061"]);
    // The near misses: a field's value after its label, and a line that
    // opens in title case.
    no_person(&[
        "note: hi this is sione from the Warehouse",
        "Please ask tania to call the vendor.",
    ]);
}

#[test]
fn lower_case_given_names_as_a_sentence_subject() {
    // A given name that is no common word, opening a sentence before
    // `is`, `has`, `left`; the near misses: software and measures.
    assert_eq!(
        person("@here heads up, yuki is off sick today so arjun is covering the phones"),
        ["yuki", "arjun"]
    );
    assert_eq!(
        person("tevita left his badge in the server room again lol"),
        ["tevita"]
    );
    no_person(&[
        "jenkins is down again",
        "max is 5 users on the trial",
        "hope is not a plan",
    ]);
}

#[test]
fn postcodes_listed_after_a_postcode_word() {
    let postcode = |t: &str| of_kind(t, "POSTCODE");
    // The items of a list after a code that a postcode word names, of
    // digits (the same length), of a country's shape, or in lower case
    // anywhere after the word.
    assert_eq!(
        postcode("Bulk SMS campaign failed for postcodes 0870, 0872 and 4825. The gateway"),
        ["0870", "0872", "4825"]
    );
    assert_eq!(
        postcode("Please check postcodes 9371 (Glenorchy), 7183 and 3881. Our system"),
        ["9371", "7183", "3881"]
    );
    assert_eq!(
        postcode("ZIPs 60614 and 60657 are outside the zone"),
        ["60614", "60657"]
    );
    assert_eq!(
        postcode("remove postal codes T5J 0N3 and T6E 4R4 which were added"),
        ["T5J 0N3", "T6E 4R4"]
    );
    assert_eq!(
        postcode("Les colis destinés aux codes postaux G0A 1E0 et G0X 2T0 subiront"),
        ["G0A 1E0", "G0X 2T0"]
    );
    assert_eq!(
        postcode("postcode lookup fails for ls1 4ap, ls2 9jt and bd1 1hy on the form"),
        ["ls1 4ap", "ls2 9jt", "bd1 1hy"]
    );
    // The near misses: a count after a code, a number of another length,
    // and a code's shape after a word that only ends like one.
    assert_eq!(postcode("postcode 6011, 2000 users affected"), ["6011"]);
    assert_eq!(postcode("postcode 6011 and 12 others failed"), ["6011"]);
    for text in ["error code e11 1aa again", "zipper broke on bag a12 3bc"] {
        assert_eq!(postcode(text), Vec::<String>::new(), "{text:?}");
    }
}

#[test]
fn organisations_named_in_lower_case() {
    let firm = |t: &str| of_kind(t, "ORGANIZATION");
    // A legal form in lower case and the words before it, back to the
    // clause's opening.
    assert_eq!(
        firm(
            "voicemail 11:52am: hi, its dave kowalski from kowalski plumbing pty ltd, just chasing up"
        ),
        ["kowalski plumbing pty ltd"]
    );
    assert_eq!(
        firm("invoice came from kiwi fibre networks ltd not us, tell the customer"),
        ["kiwi fibre networks ltd"]
    );
    assert_eq!(
        firm("customer: brennan & daughters ltd"),
        ["brennan & daughters ltd"]
    );
    // The near misses: `limited` as a word.
    for text in [
        "we had limited access all day",
        "bandwidth is very limited, pls help",
    ] {
        assert_eq!(firm(text), Vec::<String>::new(), "{text:?}");
    }
}

#[test]
fn the_addressee_on_the_line_above_an_address() {
    // A name alone on the line above an address, the gazetteer knowing
    // one of its words (`Czcibor` it does not), past a title; the near
    // misses: a site's, a house's and a firm's line.
    assert_eq!(
        person("Czcibor Kaczmarek\n\n43 Gloddaeth Street\nBinsted GU34 2DX"),
        ["Czcibor Kaczmarek"]
    );
    assert_eq!(
        person(
            "Please post the P60 to:\nMrs Deborah Lamb\nFlat 4\n27 Marchmont Road\nEdinburgh\nEH9 1HY"
        ),
        ["Deborah Lamb"]
    );
    assert_eq!(
        person("Ship to:\nToby West\n19 Delan Road\nKolonga QLD 4671"),
        ["Toby West"]
    );
    for text in [
        "Auckland Branch\n14 Harbour St\nWellington 6011",
        "Kellogg Company\n14 Harbour St\nWellington 6011",
        "Pacific Health Trust\n14 Harbour St\nWellington 6011",
    ] {
        assert_eq!(person(text), Vec::<String>::new(), "{text:?}");
    }
    // A house's name opening an address stays the address's, with the
    // addressee above it.
    let text = "update my address to:\nDeepika Raghunathan\nIvy Lodge\n14 Castle Avenue\nClontarf\nDublin 3\nD03 KX64\nThanks";
    assert_eq!(person(text), ["Deepika Raghunathan"]);
    assert_eq!(
        address(text),
        ["Ivy Lodge\n14 Castle Avenue\nClontarf\nDublin 3\nD03 KX64"]
    );
}

#[test]
fn a_service_request_for_a_person() {
    // `Requested for:` names a person as a greeting does (a place's name
    // too: `Florence`); the near miss: a site.
    assert_eq!(
        person("Requested for: Florence Adjei\nRequested by: Austin Reid"),
        ["Florence Adjei", "Austin Reid"]
    );
    assert_eq!(person("Requested for: Sydney office"), Vec::<String>::new());
}

#[test]
fn names_in_capitals_after_a_contact_word() {
    // A given name and surnames after a contact word, ending the line,
    // one no common word; the near misses: both common words, a team.
    assert_eq!(person("CONTACT: HINEMOA WALKER"), ["HINEMOA WALKER"]);
    assert_eq!(person("ATTN: PRIYA SMITH\nPO BOX 44"), ["PRIYA SMITH"]);
    for text in [
        "CONTACT: WILL CALL",
        "CONTACT: MARK DOWN",
        "ATTN: ACCOUNTS PAYABLE",
    ] {
        assert_eq!(person(text), Vec::<String>::new(), "{text:?}");
    }
}

#[test]
fn a_canadian_code_after_its_province_is_a_postcode() {
    // As an Australian code after its state; the near misses: a code
    // with no province before it keeps its regional kind, and one inside
    // an address is the address's.
    let postcode = |text: &str| of_kind(text, "POSTCODE");
    assert_eq!(
        postcode("Customer lives in Moncton, NB E1C 4M9 now."),
        ["E1C 4M9"]
    );
    assert_eq!(postcode("MacLeod & Ward, Halifax, NS B3J 3K1"), ["B3J 3K1"]);
    assert_eq!(
        postcode("the form says E1C 4M9 is wrong"),
        Vec::<String>::new()
    );
    let text = "Depot: 1100 Main Street, Suite 400, Moncton, NB E1C 1H9.";
    assert_eq!(postcode(text), Vec::<String>::new());
    assert_eq!(
        address(text),
        ["1100 Main Street, Suite 400, Moncton, NB E1C 1H9"]
    );
}

#[test]
fn a_postcode_found_before_is_one_again() {
    // The same code again later in the text; the near misses: the same
    // digits as an extension or a cost centre, and a new number.
    let postcode = |text: &str| of_kind(text, "POSTCODE");
    assert_eq!(
        postcode(
            "Can you check postcodes 6011, 8011 and 9016?\nReply: 9016 is Andersons Bay, 2000 users."
        ),
        ["6011", "8011", "9016", "9016"]
    );
    assert_eq!(
        postcode("Does it cover postcode 0870?\n> they only deliver to 0870 and 0872"),
        ["0870", "0870", "0872"]
    );
    for text in [
        "Delivery to Bondi NSW 2026. Contact Mitchell Baker, ext 2026.",
        "Ship to Hamilton QLD 4007. Cost centre 4007.",
        "Ship to Hamilton QLD 4007. Ticket #4007.",
    ] {
        assert_eq!(postcode(text).len(), 1, "{text:?}");
    }
}

#[test]
fn meeting_and_form_labels_rank_titles_and_a_name_named_again() {
    assert_eq!(person("Organiser: Mark Tiong."), ["Mark Tiong"]);
    assert_eq!(
        person("Apologies: Hunter\nAbsent: Dean"),
        ["Hunter", "Dean"]
    );
    assert_eq!(person("Next of kin: Farzana Hossain"), ["Farzana Hossain"]);
    assert_eq!(person("Previous surname: Martin"), ["Martin"]);
    // A rank is a title, outside the name.
    assert_eq!(
        person("The Dean of Law, Professor Helen Nakamura, has asked"),
        ["Helen Nakamura"]
    );
    // A name of one word after a title, named again alone.
    assert_eq!(
        person("Sgt Hohaia rang. Please email Hohaia directly."),
        ["Hohaia", "Hohaia"]
    );
    // The near misses: a meeting's place named like the person, an
    // address's label, a word named again as a word.
    assert_eq!(
        person("Apologies: Hunter\nAgenda: move the Hunter Valley site"),
        ["Hunter"]
    );
    assert_eq!(
        address("Return to sender: Wohnung 4, Bergstraße 21, 69120 Heidelberg - unbekannt."),
        ["Wohnung 4, Bergstraße 21, 69120 Heidelberg"]
    );
    assert_eq!(person("Name: Summer\nSummer hours apply."), ["Summer"]);
}

#[test]
fn quebec_streets_after_des_and_boul() {
    assert_eq!(
        address("addressee unknown at 64 Rue des Érables, Gatineau QC J8Y 3K2. Please"),
        ["64 Rue des Érables, Gatineau QC J8Y 3K2"]
    );
    assert_eq!(
        address(
            "envoyer au 1250, boul. René-Lévesque Ouest, bureau 1400, Montréal (Québec) H3B 4W8?"
        ),
        ["1250, boul. René-Lévesque Ouest, bureau 1400, Montréal (Québec) H3B 4W8"]
    );
    // The near miss: `des` alone between capitals is no street.
    assert_eq!(
        address("Les Amis des Arts meet at noon."),
        Vec::<String>::new()
    );
}

#[test]
fn house_numbers_with_a_small_letter_and_units_on_a_road() {
    assert_eq!(
        address("an engineer for 14a Kingsland High Street, London E8 2JS on Wednesday"),
        ["14a Kingsland High Street, London E8 2JS"]
    );
    assert_eq!(
        address("Registered office: Unit 2, Winnall Valley Road, Winchester SO23 0LD."),
        ["Unit 2, Winnall Valley Road, Winchester SO23 0LD"]
    );
    // The near misses: a unit and a street with nothing after them, a
    // word's letter.
    assert_eq!(
        address("Unit 2, Winnall Road was closed"),
        Vec::<String>::new()
    );
    assert_eq!(
        address("upgrade to v14a High Street branch"),
        Vec::<String>::new()
    );
}

#[test]
fn firms_in_a_form_field_and_names_introduced_in_capitals() {
    let org = |text: &str| of_kind(text, "ORGANIZATION");
    assert_eq!(
        org("NAME: AROHA TE WHAITI\nEMPLOYER: HARBOUR CITY CLEANING LIMITED\nNEXT OF KIN: TAMATI"),
        ["HARBOUR CITY CLEANING LIMITED"]
    );
    // The near miss: `LIMITED` as a word, after another label.
    assert_eq!(org("NOTE: STORAGE SPACE LIMITED"), Vec::<String>::new());
    assert_eq!(
        person("MY NAME IS PRIYA SHARMA AND I CANNOT LOG IN"),
        ["PRIYA SHARMA"]
    );
    assert_eq!(
        person("Ship to: 18 Devonport Road, Tauranga 3110\nContact: Bill Ranginui\nInvoice ref"),
        ["Bill Ranginui"]
    );
    assert_eq!(person("Contact: IT Support"), Vec::<String>::new());
}

#[test]
fn informal_sign_offs_and_a_name_to_phone() {
    assert_eq!(
        person("no luck.\nThanks heaps!\nHunter\n\nSent from my iPhone"),
        ["Hunter"]
    );
    assert_eq!(person("please call Grace on 021 555 0134 today"), ["Grace"]);
    // The near misses: a place to phone, a common word with no number.
    no_person(&[
        "please call Sydney on 02 9999 0000",
        "please call Grace about it",
        "Thanks heaps!\nHunter Valley site is down",
    ]);
}

#[test]
fn signatures_in_a_quoted_reply_and_after_a_dash() {
    assert_eq!(
        person("> Please pay the bill.\n> Regards,\n> Bill\n> cc Ana Folau"),
        ["Bill", "Ana Folau"]
    );
    assert_eq!(
        person("> Yes, but only after the lease ends. - Nick\nAgreed."),
        ["Nick"]
    );
    assert_eq!(
        person("Can someone check this?\n- Aroha\n\nReply: done"),
        ["Aroha"]
    );
    // The near misses: a list's items, a dash inside a sentence, a quote
    // marker inside a line.
    no_person(&[
        "Steps:\n- Restart\n- Will\n- Mark\n- Done",
        "Mark the ticket - Will do.",
        "a > Bill",
    ]);
}

#[test]
fn a_name_found_before_is_still_read_as_any_word() {
    // `Frank` is known from `Frank Müller`; not taken as the person again
    // at a sentence's start, it is still a name spoken to.
    assert_eq!(
        person(
            "Cc: Joy Mensah; Frank Müller\n\nHi all, the printer is offline again. Frank, can you check the switch?"
        ),
        ["Joy Mensah", "Frank Müller", "Frank"]
    );
    // The near miss: the word as a word.
    assert_eq!(
        person("Cc: Frank Müller\n\nTo be frank, it is offline."),
        ["Frank Müller"]
    );
}

#[test]
fn lower_case_names_after_a_role_or_a_verb_of_sending() {
    assert_eq!(person("my manager sinéad already signed off"), ["sinéad"]);
    assert_eq!(person("agent: ok ill send mateo up tomorrow"), ["mateo"]);
    // The near misses: a common word after the cue.
    no_person(&[
        "my manager will call",
        "can u send invoice",
        "send mark the link",
    ]);
}

#[test]
fn quebec_post_office_boxes() {
    assert_eq!(
        address(
            "Fromagerie Lavoie inc., C.P. 218, Saint-Georges (Québec) G5Y 5C7. Notre livraison"
        ),
        ["C.P. 218, Saint-Georges (Québec) G5Y 5C7"]
    );
    assert_eq!(
        address(
            "Retour : case postale 8820, succursale Centre-ville, Montréal (Québec) H3C 3P8. Merci"
        ),
        ["case postale 8820, succursale Centre-ville, Montréal (Québec) H3C 3P8"]
    );
    // The near misses: the box and the code in different sentences, a
    // street between them (the street's address).
    for text in [
        "C.P. 218 is closed. Send to G5Y 5C7",
        "C.P. 218, then call us. Send to G5Y 5C7",
    ] {
        assert_eq!(address(text), Vec::<String>::new(), "{text:?}");
    }
    assert_eq!(
        address("C.P. 218, 44 rue Principale, Saint-Georges (Québec) G5Y 5C7"),
        ["44 rue Principale, Saint-Georges (Québec) G5Y 5C7"]
    );
}

#[test]
fn surnames_in_capitals_before_the_given_name() {
    // A roster's or a directory's `SURNAME, Given`, surnames the gazetteer
    // lacks (`NGATA`), places that are surnames (`MOORE`) and `Mc` in
    // capitals (`McLEOD`); the whole name in capitals after a label.
    assert_eq!(
        person(
            "Attendees:\nTAYLOR, Mark\nNGATA, Hine\nMOORE, Dawn\nMcLEOD, Fiona\nO'SULLIVAN, Ciarán"
        ),
        [
            "TAYLOR, Mark",
            "NGATA, Hine",
            "MOORE, Dawn",
            "McLEOD, Fiona",
            "O'SULLIVAN, Ciarán"
        ]
    );
    assert_eq!(
        person("From: \"PATEL, Rohan\" <rohan.patel@example.co.uk>"),
        ["PATEL, Rohan"]
    );
    assert_eq!(
        person("Caller ID: KIM, RICHARD\nCallback: 0"),
        ["KIM, RICHARD"]
    );
    // A word the lexicon knows as something else is no surname.
    assert_eq!(person("THANKS, Sarah\nIT desk"), ["Sarah"]);
    assert_eq!(person("DONE, Sarah\nthx"), ["Sarah"]);
    assert_eq!(person("URGENT, Mark\nplease call"), Vec::<String>::new());
    // A given name in capitals joins only a surname in capitals.
    assert_eq!(person("Wilson, RICHARD\nx"), ["Wilson"]);
}

#[test]
fn greetings_of_australia_new_zealand_and_ireland() {
    assert_eq!(person("G'day Bruce,\nThe tech is booked."), ["Bruce"]);
    assert_eq!(person("chur kahu, all sorted."), ["kahu"]);
    assert_eq!(person("yo marcus the printer is jammed"), ["marcus"]);
    // A word the lexicon lacks, greeted in lower case before a comma.
    assert_eq!(person("ta Becks, see you at 3"), ["Becks"]);
    assert_eq!(person("thanks Becks! see you at 3"), ["Becks"]);
    assert_eq!(person("yo dude the thing broke"), Vec::<String>::new());
    assert_eq!(person("from Becks, see"), Vec::<String>::new());
}

#[test]
fn visit_reports_workers_questions_before_firms_and_yoruba_names() {
    // A visit report's worker, labelled at the line's start; not an
    // address after the same word in a sentence.
    assert_eq!(
        person("Work done: replaced ONT\nEngineer: K. Adeyemi\nNext visit: Monday"),
        ["K. Adeyemi"]
    );
    assert_eq!(person("Notes: router replaced\nTech: Ray"), ["Ray"]);
    assert_eq!(
        person(
            "Clinic address for the technician: Shop 12, 159 Church Street, Parramatta NSW 2150."
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        person("2024-05-14 09:12 Call logged by Adebayo Ogunleye (ext 2150)"),
        ["Adebayo Ogunleye"]
    );
    // A question's first word is no part of the firm.
    assert_eq!(
        of_kind("Can Northgate Freight LLC open a claim?", "ORGANIZATION"),
        ["Northgate Freight LLC"]
    );
    assert_eq!(of_kind("Has Acme Ltd paid?", "ORGANIZATION"), ["Acme Ltd"]);
}

#[test]
fn streets_named_with_a_possessive() {
    assert_eq!(
        address(
            "Please send the invoice to Suite 5, Marlow House, 1 Lloyd's Avenue, London EC3N 3AX."
        ),
        ["Suite 5, Marlow House, 1 Lloyd's Avenue, London EC3N 3AX"]
    );
    assert_eq!(
        address("Collect it from The Granary, 4 John\u{2019}s Quay, Kilkenny R95 D2K7 please"),
        ["The Granary, 4 John\u{2019}s Quay, Kilkenny R95 D2K7"]
    );
    // Past the possessive only to a street type: a person's thing stays hers.
    assert_eq!(person("Ask Sarah's Team about it."), ["Sarah"]);
}

#[test]
fn common_word_names_away_from_work() {
    assert_eq!(
        person("Rose will cover the desk while Jack is away."),
        ["Jack"]
    );
    assert_eq!(person("FYI Grace is on leave until Monday"), ["Grace"]);
    for text in [
        "the Summer is away",
        "In May is away day",
        "Victoria is away from the coast",
    ] {
        assert_eq!(person(text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn irish_addresses_with_a_unit_and_no_house_number() {
    assert_eq!(
        address(
            "Her laptop should go to Apartment 12, The Granary, Spencer Dock, Dublin 1, D01 K7W2. Payroll is next."
        ),
        ["Apartment 12, The Granary, Spencer Dock, Dublin 1, D01 K7W2"]
    );
    assert_eq!(
        address("Our branch is at Block B, Cleaghmore, Ballinasloe, Co. Galway, H53 T2K4."),
        ["Block B, Cleaghmore, Ballinasloe, Co. Galway, H53 T2K4"]
    );
    // The unit, not the block after it.
    assert_eq!(
        address("site: Unit 14, Block C, Liffey Valley Business Park, Dublin 22, D22 K5E7)"),
        ["Unit 14, Block C, Liffey Valley Business Park, Dublin 22, D22 K5E7"]
    );
    // No unit, a sentence's end between, a field in lower case: no address.
    for text in [
        "Call the Galway office, H91 E2W4 is its code",
        "Unit 4 is broken. Call Galway H91 E2W4",
        "Flat 2, the office near Galway, H91 E2W4",
    ] {
        assert_eq!(address(text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn lower_case_subjects_after_also() {
    assert_eq!(
        person("phone dead at desk 14. remind him also robbo needs a new headset"),
        ["robbo"]
    );
    assert_eq!(person("plus tania cant log in"), ["tania"]);
    assert_eq!(person("also the printer needs toner"), Vec::<String>::new());
}

#[test]
fn common_word_names_after_whom_one_works_for() {
    assert_eq!(person("my manager Dawn approved the reset"), ["Dawn"]);
    assert_eq!(person("our boss Grace said ok"), ["Grace"]);
    // A job title's word is no such cue.
    assert_eq!(
        person("Service Desk Manager, Head of People & Culture approve it."),
        Vec::<String>::new()
    );
    assert_eq!(
        person("the manager Will Review is due"),
        Vec::<String>::new()
    );
}

#[test]
fn given_names_in_capitals_after_a_verb_of_contacting() {
    assert_eq!(
        person("PRINTER ON LVL 3 BROKEN AGAIN!!! ASK DARREN, HE KNOWS"),
        ["DARREN"]
    );
    assert_eq!(person("CALL PRIYA ABOUT IT"), ["PRIYA"]);
    assert_eq!(person("TELL SARAH JONES TODAY"), ["SARAH JONES"]);
    // Not a common word, not a word that is no given name.
    for text in ["CALL MARK ON 021", "ASK IT TO RESTART", "ASK WILL ABOUT IT"] {
        assert_eq!(person(text), Vec::<String>::new(), "{text}");
    }
}

/// A number a postcode word reaches is no postcode where it is a house's
/// (a street after it) or a unit's (a unit label before it).
#[test]
fn a_house_or_unit_number_after_a_postcode_word() {
    assert_eq!(
        entities("His zip is 96813. Office: 1001 Bishop Street, Suite 2200, Honolulu, HI 96813."),
        [
            ("POSTCODE".to_owned(), "96813".to_owned()),
            (
                "ADDRESS".to_owned(),
                "1001 Bishop Street, Suite 2200, Honolulu, HI 96813".to_owned()
            )
        ]
    );
    assert_eq!(
        of_kind(
            "Postcode 3350 is wrong, the unit 2200 one is right.",
            "POSTCODE"
        ),
        ["3350"]
    );
    // A place after the code is no street: still a postcode.
    assert_eq!(
        of_kind("Our postcode is 3000 Melbourne.", "POSTCODE"),
        ["3000"]
    );
}

/// A chat's speaker after a time stamp alone: a given name, also where it
/// is a common word, in title or lower case; not a role, nor a surname
/// that is also one's word, nor a name after a time mid-sentence.
#[test]
fn a_speaker_after_a_time_stamp_alone() {
    assert_eq!(
        person(
            "09:14 Will: hi, printer on level 3 is jammed again\n09:15 Priya Raghunathan: on it"
        ),
        ["Will", "Priya Raghunathan"]
    );
    assert_eq!(person("[09:14] Grace: can you check"), ["Grace"]);
    assert_eq!(
        person("10:02 mark: did anyone restart the build agent\n10:03 faith: not me"),
        ["mark", "faith"]
    );
    no_person(&[
        "09:14 Update: printer fixed",
        "[11:12] Guest: my kid's ipad is locked out",
        "Meeting at 09:14 Will: bring laptops",
        "10:02 note: did anyone restart it",
    ]);
}

/// A meeting's lists of people (`Attendees:`, `Participants:`), a
/// ticket's `Owner:` and a new starter's `Buddy:`; a later item of a list
/// split by commas is a name of its own, not a surname before a given
/// name, and a team's word before a comma starts no team's name.
#[test]
fn a_meetings_lists_and_a_tickets_owner() {
    assert_eq!(
        person("Attendees: Hope Mbeki, Frank Delacroix, Yuki Tanaka"),
        ["Hope Mbeki", "Frank Delacroix", "Yuki Tanaka"]
    );
    assert_eq!(
        person("Attendees: Ola, Benedikt, Imani Wallace\nActions: none"),
        ["Ola", "Benedikt", "Imani Wallace"]
    );
    assert_eq!(
        person("To: Te Ariki Morehu, Leilani, Sefo\nSubject: cover"),
        ["Te Ariki Morehu", "Leilani", "Sefo"]
    );
    assert_eq!(person("Owner: Tui Mataio."), ["Tui Mataio"]);
    assert_eq!(person("Buddy: Keira Malone"), ["Keira Malone"]);
    assert_eq!(person("Cc: Finance Team, Sarah Jones"), ["Sarah Jones"]);
    // A team owns as often; a team's word just before a name names a team.
    no_person(&[
        "Owner: IT Operations",
        "Team Kestrel is on it",
        "the Owner: Hope",
    ]);
    // The `Last, First` of a list split by `;` stays one person.
    assert_eq!(
        person("To: Whitfield, Mark <mark.whitfield@example.com>"),
        ["Whitfield, Mark"]
    );
}

/// A surname after particles (`de Vries`, `van Dijk`), a short one in
/// `-ies` that is no trade's plural; a manager's or a user's name after
/// the role in lower case or opening a sentence.
#[test]
fn particles_before_a_surname_and_a_managers_or_users_name() {
    assert_eq!(
        person("Reported by: Ilse de Vries\nLocation: Amsterdam"),
        ["Ilse de Vries"]
    );
    assert_eq!(person("Hi Mark de Vries, thanks"), ["Mark de Vries"]);
    assert_eq!(person("cc Ilse van Dijk"), ["Ilse van Dijk"]);
    assert_eq!(person("Account manager Jack Tregenza."), ["Jack Tregenza"]);
    assert_eq!(
        person("User Milan Petrović is getting error 0x80070005."),
        ["Milan Petrović"]
    );
    // A trade's plural signs a team; a role in title case ends a title.
    no_person(&[
        "Cheers,\nSupplies",
        "User Guide is missing.",
        "Service Desk Manager, Head of Operations",
    ]);
}

/// A unit before its house number across a spaced slash, and a numbered
/// street in capitals (`79TH ST`, `WEST 46TH STREET`).
#[test]
fn a_unit_across_a_slash_and_numbered_streets_in_capitals() {
    assert_eq!(
        of_kind(
            "SEND TO: JESSICA NGUYEN, UNIT 9 / 45 STATION STREET, BOX HILL VIC 3128",
            "ADDRESS"
        ),
        ["UNIT 9 / 45 STATION STREET, BOX HILL VIC 3128"]
    );
    assert_eq!(
        of_kind(
            "Shipping label:\nMARCUS T. BELLAMY\n4821 W 79TH ST APT 3C\nCHICAGO IL 60652\nFROM: X",
            "ADDRESS"
        ),
        ["4821 W 79TH ST APT 3C\nCHICAGO IL 60652"]
    );
    assert_eq!(
        of_kind("318 WEST 46TH STREET, NEW YORK NY 10036", "ADDRESS"),
        ["318 WEST 46TH STREET, NEW YORK NY 10036"]
    );
    // A ratio before a house number is no unit.
    assert_eq!(
        of_kind("Ratio 9 / 45 Station Street", "ADDRESS"),
        ["45 Station Street"]
    );
}

/// A bulleted list's later item, after an item that opens with a person
/// (items between may name no one): a greeting's weight.
#[test]
fn a_bulleted_lists_later_people() {
    assert_eq!(
        person(
            "Access list:\n* Beatrix Holloway (read/write)\n* Finance Team (inherit)\n* Grace Oduya (owner)"
        ),
        ["Beatrix Holloway", "Grace Oduya"]
    );
    assert_eq!(
        person("- Kofi Mensah (read)\n- Grace Oduya (owner)"),
        ["Kofi Mensah", "Grace Oduya"]
    );
    // Not across a line that is no item, nor in another list's bullets.
    assert_eq!(
        person("- Kofi Mensah (read)\nthen\n- Grace Oduya (owner)"),
        ["Kofi Mensah"]
    );
    assert_eq!(
        person("* Kofi Mensah (read)\n- Grace Oduya (owner)"),
        ["Kofi Mensah"]
    );
}

/// What a German letter says came from a firm is no part of its name.
#[test]
fn a_german_letters_noun_before_a_firm() {
    assert_eq!(
        of_kind(
            "Rechnung von Hansa Lagertechnik GmbH & Co. KG, Am Sandtorkai 41, 20457 Hamburg.",
            "ORGANIZATION"
        ),
        ["Hansa Lagertechnik GmbH & Co. KG"]
    );
    assert_eq!(
        of_kind("Angebot der Müller Bau GmbH liegt vor.", "ORGANIZATION"),
        ["Müller Bau GmbH"]
    );
    // A person's particle stays in the firm's name.
    assert_eq!(
        of_kind("Bernd von Schmidt GmbH hat geliefert.", "ORGANIZATION"),
        ["Bernd von Schmidt GmbH"]
    );
}

/// A person found before, a common word too, opening a sentence before a
/// verb a person does; not a season that is only also a person's name.
#[test]
fn a_known_common_word_name_opening_a_sentence() {
    assert_eq!(
        person("Booked the room with Grace Whitmore. Grace will take minutes."),
        ["Grace Whitmore", "Grace"]
    );
    assert_eq!(
        person("Can you check with Summer Reyes? Summer is our busiest season."),
        ["Summer Reyes"]
    );
    assert_eq!(
        person("Ask Summer Reyes. Summer will be busy anyway."),
        ["Summer Reyes"]
    );
}

/// A numbered row's `Surname, Given` before a spaced dash and anything
/// (`row 4: O'Brien, Siobhan - missing postcode`), its particles
/// capitalised too; a dash after two people spoken to keeps them two.
#[test]
fn a_numbered_rows_surname_first() {
    assert_eq!(
        person(
            "CSV import errors:\nrow 4: O'Brien, Siobhan - missing postcode\nrow 9: Van der Merwe, Pieter - invalid\nrow 12: Ngata, Aroha - ok"
        ),
        ["O'Brien, Siobhan", "Van der Merwe, Pieter", "Ngata, Aroha"]
    );
    assert_eq!(
        person("Andrew, Sinéad - can you confirm?"),
        ["Andrew", "Sinéad"]
    );
}

/// A given name alone before the person who holds it is found, placed as
/// a person's word is (`while Grace is at …`); not a word that is only a
/// common word there (`Les imprimantes`, `Max. attachment size`).
#[test]
fn a_given_name_alone_before_its_person_is_found() {
    assert_eq!(
        person(
            "Will will be covering the desk while Grace is at the summit. Email Grace Thompson."
        ),
        ["Grace", "Grace Thompson"]
    );
    assert_eq!(
        person("Max. attachment size is 25 MB. Max Hollister tried to send a 40 MB file."),
        ["Max Hollister"]
    );
    assert_eq!(
        person("Les imprimantes sont hors service. Les Whitmore passera jeudi."),
        ["Les Whitmore"]
    );
    // A season alone, however placed, before a person of that name.
    assert_eq!(
        person("Summer is our busiest season. Ask Summer Reyes."),
        ["Summer Reyes"]
    );
}

/// A firm's full stop after `Co. Ltd.` mid-sentence; partners before a
/// comma where the firm opens its line; a particle opening the line.
#[test]
fn partners_particles_and_a_companys_full_stop() {
    assert_eq!(
        of_kind(
            "Supplier is Prairie Label Co. Ltd. and the ship-to is 1650 Church Avenue.",
            "ORGANIZATION"
        ),
        ["Prairie Label Co. Ltd."]
    );
    assert_eq!(
        of_kind(
            "--\nRebecca Stanwyck\nHarlow, Finch & Dunmore LLP\nT: (202) 555-0164",
            "ORGANIZATION"
        ),
        ["Harlow, Finch & Dunmore LLP"]
    );
    assert_eq!(
        of_kind(
            "Gruß\nPetra Lindner\nvon Essen Immobilien AG",
            "ORGANIZATION"
        ),
        ["von Essen Immobilien AG"]
    );
    assert_eq!(
        of_kind("Kind regards\nvan der Berg Engineering Ltd", "ORGANIZATION"),
        ["van der Berg Engineering Ltd"]
    );
    // A field before a firm is no partner; a particle after a noun is a
    // preposition.
    assert_eq!(
        of_kind(
            "Billing contact: Lorenzo Bianchi, Bianchi & Figli Imports Pty Ltd, PO Box 1130",
            "ORGANIZATION"
        ),
        ["Bianchi & Figli Imports Pty Ltd"]
    );
    assert_eq!(
        of_kind("Rechnung von Hansa Lagertechnik GmbH", "ORGANIZATION"),
        ["Hansa Lagertechnik GmbH"]
    );
}

/// A person's common-word name found before, after a semicolon's clause
/// start or before a word that no noun is (`if`, `when`, `today`).
#[test]
fn a_known_common_word_name_in_an_action_or_before_a_conjunction() {
    assert_eq!(
        person(
            "Paged Amber Singh at 02:25.\nActions: Kasun to schedule; Amber to review alerting."
        ),
        ["Amber Singh", "Kasun", "Amber"]
    );
    assert_eq!(
        person("Amber Singh is onsite. Escalate to Amber if it goes red."),
        ["Amber Singh", "Amber"]
    );
    // A noun after it: the colour's.
    assert_eq!(
        person("Amber Singh is onsite. The light went to Amber alert."),
        ["Amber Singh"]
    );
}

/// Vietnamese names with their tones, where the gazetteer lists them bare
/// (`Đức` as `duc`, `Tuấn` as `tuan`).
#[test]
fn vietnamese_names_with_their_tones() {
    assert_eq!(
        person("Customer Trần Văn Đức says the technician never showed."),
        ["Trần Văn Đức"]
    );
    assert_eq!(person("Trương Minh Tuấn called."), ["Trương Minh Tuấn"]);
}

/// An estate's unit before a UK postcode (no house number), a Dublin
/// district before its Eircode with a space, and no unit whose id is a
/// word in lower case.
#[test]
fn estate_units_before_uk_postcodes_and_dublin_districts() {
    assert_eq!(
        of_kind(
            "Return kit to: Unit 14, Trafford Park Industrial Estate, Manchester M17 1RX\nNotes: none",
            "ADDRESS"
        ),
        ["Unit 14, Trafford Park Industrial Estate, Manchester M17 1RX"]
    );
    assert_eq!(
        of_kind(
            "New address is Unit 3, Block C, Central Park, Leopardstown, Dublin 18 D18 K5V8. Thanks",
            "ADDRESS"
        ),
        ["Unit 3, Block C, Central Park, Leopardstown, Dublin 18 D18 K5V8"]
    );
    assert_eq!(
        of_kind(
            "Building is Ashby Building, 9 Stranmillis Road, Belfast BT9 5AH.",
            "ADDRESS"
        ),
        ["Ashby Building, 9 Stranmillis Road, Belfast BT9 5AH"]
    );
    // Places and codes with no unit are no address.
    assert_eq!(
        of_kind("Offices in Leeds LS1 4DY and Manchester M1 1AE", "ADDRESS"),
        Vec::<String>::new()
    );
}

/// In capitals, a preposition ends a run, so a firm after a long run of
/// capitals is read whole, not cut at the run's eighth word.
#[test]
fn a_preposition_in_capitals_ends_a_run() {
    assert_eq!(
        entities("PLEASE EMAIL THE FINANCE TEAM AT TAFF VALE PLUMBING LTD DIRECTLY."),
        [(
            "ORGANIZATION".to_owned(),
            "TAFF VALE PLUMBING LTD".to_owned()
        )]
    );
    assert_eq!(
        of_kind(
            "PARTS SUPPLIED BY WESSEX IMAGING SOLUTIONS LTD",
            "ORGANIZATION"
        ),
        ["WESSEX IMAGING SOLUTIONS LTD"]
    );
}

/// A card's holder (`Name on card`, `Cardholder:`); greetings and thanks
/// of Portuguese, Spanish, French and German name no one themselves.
#[test]
fn a_cards_holder_and_more_greetings() {
    assert_eq!(
        person(
            "Olá! the portal rejects my card. Name on card THIAGO ALBUQUERQUE, billing postcode 2010."
        ),
        ["THIAGO ALBUQUERQUE"]
    );
    assert_eq!(
        person("Cardholder: Thiago Albuquerque"),
        ["Thiago Albuquerque"]
    );
    assert_eq!(person("Merci Josée, à demain"), ["Josée"]);
    no_person(&["the card Will gave me", "Gracias!"]);
}

/// A table split by `|` anywhere in the text (a rate card, Markdown):
/// its person's and postcode's columns, read under their header; a line
/// with bars and no such header is no table.
#[test]
fn a_table_split_by_bars() {
    assert_eq!(
        of_kind(
            "Rate card:\nPostcode | Zone | Surcharge\n0872 | Remote | $45.00\n4870 | Regional | $12.50\nNote ticket 4870 is toner.",
            "POSTCODE"
        ),
        ["0872", "4870"]
    );
    assert_eq!(
        entities("| Name | Postcode |\n|---|---|\n| Kofi Mensah | 6011 |\n| Grace Oduya | 2010 |"),
        [
            ("PERSON".to_owned(), "Kofi Mensah".to_owned()),
            ("POSTCODE".to_owned(), "6011".to_owned()),
            ("PERSON".to_owned(), "Grace Oduya".to_owned()),
            ("POSTCODE".to_owned(), "2010".to_owned()),
        ]
    );
    assert_eq!(
        of_kind("Status | Count\nOpen | 3010\nClosed | 2000", "POSTCODE"),
        Vec::<String>::new()
    );
}

/// A given name before a workplace named by its place (`from the Dublin
/// office`), and a worker's name in brackets after the role (`the tech
/// (Dean)`).
#[test]
fn a_workplace_after_a_name_and_a_workers_name_in_brackets() {
    assert_eq!(
        person("Rose from the Dublin office asked me to pass this on."),
        ["Rose"]
    );
    assert_eq!(
        person("Hunter from the Hunter Valley winery called again."),
        ["Hunter"]
    );
    assert_eq!(person("Summer from the Auckland office rang."), ["Summer"]);
    assert_eq!(
        person("14 hours labour, but the tech (Dean) was only on site for 6."),
        ["Dean"]
    );
    no_person(&[
        "Sydney from the Melbourne office",
        "see the report (Dean) above",
        "May from the Sydney office is quieter",
    ]);
}

/// Units read back from their codes only fill the runs' gaps, however
/// many codes a long text holds (asked in a binary search).
#[test]
fn units_before_codes_fill_only_gaps() {
    let one = "Flat 12, 5 Dock Road, Galway H91 E2W7. Unit 14, Trafford Park Industrial Estate, Manchester M17 1RX. ";
    let text = one.repeat(50);
    let found = of_kind(&text, "ADDRESS");
    assert_eq!(found.len(), 100);
    assert_eq!(found[0], "Flat 12, 5 Dock Road, Galway H91 E2W7");
    assert_eq!(
        found[1],
        "Unit 14, Trafford Park Industrial Estate, Manchester M17 1RX"
    );
}

/// The pass's cache of short words gives the lexicon's flags, each word
/// asked twice among thousands that share its entries (every word of one
/// to three letters).
#[test]
fn the_recent_words_give_the_lexicons_flags() {
    let mut recent = super::names::Recent::new();
    for _ in 0..2 {
        for n in 0..26 + 26 * 26 + 26 * 26 * 26 {
            let (len, mut k) = match n {
                0..26 => (1, n),
                26..702 => (2, n - 26),
                _ => (3, n - 702),
            };
            let mut head = 0u64;
            for j in 0..len {
                head |= u64::from(b'a' + (k % 26) as u8) << (8 * j);
                k /= 26;
            }
            let want = super::names::get_short(head, len).unwrap_or(0);
            assert_eq!(recent.get_short(head, len), want, "{head:x}");
        }
    }
}

/// `word_before` as it was written first: two bounds a byte, a letter
/// told by `is_ascii_alphabetic`.
fn word_before_by_index(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut e = i;
    while e > 0 && i - e < 8 && matches!(b[e - 1], b' ' | b',' | b':' | b'\t') {
        e -= 1;
    }
    let mut s = e;
    while s > 0 && e - s < 24 && (b[s - 1].is_ascii_alphabetic() || b[s - 1] == b'\'') {
        s -= 1;
    }
    (s < e).then_some((s, e))
}

/// The slice's reading finds the word the index's found, at every end of
/// texts of every byte (letters, `'`, separators, bytes next to the
/// letters' ranges, non-ASCII), words longer than its reach too.
#[test]
fn word_before_reads_as_by_index() {
    let mut texts: Vec<Vec<u8>> = vec![(0..=255u8).collect(), (0..=255u8).rev().collect()];
    let alphabet = b"aZ'@[`{ ,:\t\xC3\xA9-x";
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..400 {
        let len = (x % 64) as usize;
        let mut t = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // (Mostly letters: long words reach past 24.)
            let k = (x % 40) as usize;
            t.push(if k < 26 {
                b'a' + k as u8
            } else {
                alphabet[k - 26]
            });
        }
        texts.push(t);
        x = x.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(1);
    }
    for t in &texts {
        for i in 0..=t.len() {
            assert_eq!(
                super::word_before(t, i),
                word_before_by_index(t, i),
                "{t:?} at {i}"
            );
        }
    }
}
