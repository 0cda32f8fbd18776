//! The bearer-token path of `custodia-axum` on arbitrary bytes: the
//! `Authorization` header reader and the JWT verifier, both on the raw input
//! and on the input as the claims of a correctly signed HS256 token (so the
//! claim checks see arbitrary JSON, not only a failed signature). A refusal
//! is always a 401/403 with a fixed, short reason (never the input); never a
//! panic.

#![no_main]

use std::sync::LazyLock;

use axum::http::{HeaderValue, Request, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custodia_axum::bearer_token;
use custodia_axum::jwt::JwtAuthenticator;
use libfuzzer_sys::fuzz_target;

const SECRET: [u8; 32] = [42; 32];

static AUTH: LazyLock<JwtAuthenticator> = LazyLock::new(|| {
    JwtAuthenticator::hs256(&SECRET, "iss", "aud").unwrap_or_else(|e| panic!("{e}"))
});

/// An HS256 token whose payload is `claims`, signed with [`SECRET`].
fn signed(claims: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &SECRET);
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn check(token: &str) {
    if let Err(e) = AUTH.verify(token) {
        assert!(matches!(e.kind(), "unauthorized" | "forbidden"), "{e}");
        // Reasons are fixed texts: a message never grows with the input (an
        // input may of course be a piece of a reason).
        assert!(e.public_message().len() <= 100, "{e}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut parts = Request::new(()).into_parts().0;
        parts.headers.insert(header::AUTHORIZATION, value);
        if let Ok(token) = bearer_token(&parts) {
            check(token);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
    check(&signed(data));
});
