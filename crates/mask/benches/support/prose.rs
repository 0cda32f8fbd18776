// Deterministic PII-free helpdesk prose: the criterion bench's input, which
// `examples/detect_profile.rs` profiles too (included by both).

/// Deterministic PII-free helpdesk prose, about `len` bytes.
fn prose(len: usize) -> String {
    const WORDS: &[&str] = &[
        "the",
        "customer",
        "reports",
        "that",
        "their",
        "dashboard",
        "does",
        "not",
        "load",
        "after",
        "update",
        "we",
        "have",
        "checked",
        "logs",
        "and",
        "found",
        "nothing",
        "unusual",
        "please",
        "advise",
        "whether",
        "issue",
        "persists",
        "when",
        "using",
        "another",
        "browser",
        "thanks",
        "for",
        "your",
        "patience",
        "team",
        "will",
        "follow",
        "up",
        "tomorrow",
        "morning",
        "with",
        "a",
        "fix",
        "it",
        "seems",
        "related",
        "to",
        "cache",
        "settings",
        "on",
        "shared",
        "printer",
        "office",
        "network",
        "is",
        "slow",
        "again",
        "since",
        "yesterday",
        "afternoon",
        "could",
        "you",
        "restart",
        "router",
        "our",
        "manager",
        "approved",
        "request",
        "access",
        "folder",
        "invoice",
        "was",
        "sent",
        "twice",
        "by",
        "mistake",
        "kindly",
        "ignore",
        "second",
        "one",
        "laptop",
        "battery",
        "drains",
        "quickly",
        "during",
        "video",
        "calls",
        "meeting",
        "room",
        "screen",
        "flickers",
        "sometimes",
    ];
    let mut s = String::with_capacity(len + 64);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut start = true;
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let w = WORDS[(x % WORDS.len() as u64) as usize];
        if start {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
            start = false;
        } else {
            s.push_str(w);
        }
        match (x >> 20) % 16 {
            0 => {
                s.push_str(". ");
                start = true;
            }
            1 => s.push_str(", "),
            2 if (x >> 30).is_multiple_of(8) => {
                s.push_str(".\n");
                start = true;
            }
            _ => s.push(' '),
        }
    }
    s
}
