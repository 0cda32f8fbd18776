//! Secrets: cloud and service tokens by prefix, bearer tokens, JWTs,
//! private-key blocks, `password=`-style assignments and URL credentials.

use super::context::pack;
use super::{CtxWords, Scanner, at, base64url_len, is_alnum, token_end, token_start, words};
use crate::kind::K;

/// Keys whose `:` or `=` value is a secret.
pub(super) const ASSIGN_KEYS: &CtxWords = words![
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
pub(super) const QUERY_KEYS: &CtxWords = words!["key", "sig", "signature", "client_secret", "code"];

impl Scanner<'_> {
    pub(super) fn aws(&mut self, s: usize) -> Option<usize> {
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

    /// A Google API key: `AIza` (the dispatch saw it) and 35 characters.
    #[inline(always)]
    pub(super) fn google_api_key(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let e = s + 39;
        if e <= b.len()
            && b[s + 4..e]
                .iter()
                .all(|&c| is_alnum(c) || c == b'_' || c == b'-')
            && token_end(b, e)
        {
            return Some(self.push(s, e, K::Secret, 0.95, "google_api_key"));
        }
        None
    }

    pub(super) fn bearer(&mut self, s: usize) -> Option<usize> {
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

    pub(super) fn jwt(&mut self, s: usize) -> Option<usize> {
        if !self.on.has(K::Secret) {
            return None;
        }
        let b = self.b;
        let seg = |i: usize| {
            let n = base64url_len(b, i, 8192);
            (i + n, n)
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

    pub(super) fn dash(&mut self, i: usize) -> Option<usize> {
        if !self.on.has(K::Secret) {
            return None;
        }
        let b = self.b;
        if b[i] == b'-' && b.get(i..i + 11) == Some(b"-----BEGIN ") {
            return self.pem(i);
        }
        // A prefix's first separator is the one at `i` (the look-back below
        // stops at any earlier one), so the two letters before it are those
        // before a prefix's first separator: most hyphens and underscores
        // in prose stop here, before the look-back's unpredictable loop.
        if i < 2
            || !matches!(
                &b[i - 2..i],
                b"hp"
                    | b"ho"
                    | b"hu"
                    | b"hs"
                    | b"hr"
                    | b"ub"
                    | b"at"
                    | b"xb"
                    | b"xp"
                    | b"xa"
                    | b"xr"
                    | b"xs"
                    | b"sk"
                    | b"rk"
                    | b"pk"
                    | b"pm"
            )
        {
            return None;
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
                // The token's letters, digits, `_` and `-`, up to 512
                // bytes from its start, eight bytes a test.
                let mut e = ws + p.len() + base64url_len(b, ws + p.len(), 512 - p.len());
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

    /// URL credentials `scheme://user:pass@host`: `pass` starts at `ps`
    /// (the email look-back from the `@` at `at_sign` stopped there).
    #[inline]
    pub(super) fn url_credentials(&mut self, ps: usize, at_sign: usize) -> Option<usize> {
        let b = self.b;
        if ps <= self.floor || b[ps - 1] != b':' {
            return None;
        }
        let mut us = ps - 1;
        while us > self.floor
            && ps - us < 128
            && (is_alnum(b[us - 1]) || matches!(b[us - 1], b'.' | b'_' | b'%' | b'-' | b'~'))
        {
            us -= 1;
        }
        if us >= 3 && &b[us - 3..us] == b"://" {
            return Some(self.push(us, at_sign, K::Secret, 0.95, "url_credentials"));
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

    pub(super) fn assignment(&mut self, i: usize, op: u8) -> Option<usize> {
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
        // A key is a word of its own (at least three letters) and ends in
        // one of a few pairs of letters; times, ids and most labels
        // (`Email:`, `Ref:`, `Status:`, `Date:`) do not: tested before
        // the look-back. (With the last letter alone, the look-backs
        // cost 1.0 instruction a byte more on tickets.)
        if we < self.floor + 2 || !key_ending(b[we - 2] | 0x20, b[we - 1] | 0x20) {
            return None;
        }
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
}

/// Do `x` and `y`, lower-cased, end one of [`ASSIGN_KEYS`] or
/// [`QUERY_KEYS`]? (A test checks the lists against it.)
pub(super) fn key_ending(x: u8, y: u8) -> bool {
    matches!(
        [x, y],
        [b'r' | b'w', b'd']
            | [b'd', b'e']
            | [b's', b's' | b'e']
            | [b'e', b't' | b'y' | b'n']
            | [b'o', b'n']
            | [b'i', b'g']
            | [b'r', b'e']
    )
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
