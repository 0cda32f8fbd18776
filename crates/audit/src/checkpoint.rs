//! Signed checkpoints in the C2SP `signed-note` / `tlog-checkpoint` format.
//!
//! A checkpoint commits to a tree head. Its body is three lines (plus
//! optional extension lines):
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeros>
//! <base64 root hash>
//! ```
//!
//! and a signed note appends a blank line and one line per signature:
//! `— <key name> <base64(key hash ‖ Ed25519 signature)>`, where the key hash
//! is the first 4 bytes of `SHA-256(key name ‖ "\n" ‖ 0x01 ‖ public key)` (the
//! `0x01` names Ed25519). The signature covers the body, final newline
//! included. Keys are written in the Go `golang.org/x/mod/sumdb/note` form:
//! `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 ‖ seed)>` for a signer,
//! `<name>+<hex key hash>+<base64(0x01 ‖ public key)>` for a verifier.
//!
//! Someone who kept an old checkpoint can check that a newer one extends it
//! with [`verify_extension`] and a consistency proof: a log that was truncated
//! or forked since cannot produce one.
//!
//! A signature says who signed, not which log: one key may sign several logs
//! (one origin per tenant, say). So [`open`] takes the origin of the log the
//! caller means and refuses a checkpoint of any other ([`Error::Origin`]),
//! as do [`AuditLog::check_checkpoint`](crate::AuditLog::check_checkpoint)
//! and [`verify`](crate::verify).
//!
//! ```
//! use custodia_audit::checkpoint::{Checkpoint, Signer, open};
//! use custodia_audit::merkle::MerkleTree;
//!
//! let signer = Signer::generate("audit.example.com/acme")?;
//! let verifier = signer.verifier();
//! let mut tree = MerkleTree::new();
//! tree.push(b"first event");
//! let note = signer.sign(&Checkpoint::new("audit.example.com/acme", tree.head()))?;
//! let checkpoint = open(&note, &verifier, "audit.example.com/acme")?;
//! assert_eq!(checkpoint.size, 1);
//! assert_eq!(checkpoint.root, tree.root());
//! // Signed by the same key, but not of the log named here.
//! assert!(open(&note, &verifier, "audit.example.com/globex").is_err());
//! # Ok::<(), custodia_audit::Error>(())
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use zeroize::Zeroizing;

use crate::Error;
use crate::merkle::{Hash, TreeHead, verify_consistency};

/// The algorithm byte of Ed25519 keys in signed notes.
pub const ALG_ED25519: u8 = 0x01;
/// The largest note this crate parses, in bytes.
pub const MAX_NOTE_LEN: usize = 1 << 16;
/// The most signature lines a note may carry.
pub const MAX_SIGNATURES: usize = 100;

const SIG_PREFIX: &str = "\u{2014} ";

fn bad(reason: impl Into<String>) -> Error {
    Error::Checkpoint(reason.into())
}

/// A checkpoint: the origin (the log's name) and a tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Identifies the log, e.g. `audit.example.com/acme`.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash of the tree of that size.
    pub root: Hash,
    /// Optional extension lines after the root.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint for `head` of the log named `origin`.
    pub fn new(origin: impl Into<String>, head: TreeHead) -> Self {
        Self {
            origin: origin.into(),
            size: head.size,
            root: head.root,
            extensions: Vec::new(),
        }
    }

    /// The tree head.
    pub fn head(&self) -> TreeHead {
        TreeHead {
            size: self.size,
            root: self.root,
        }
    }

    /// The note body: the signed text.
    pub fn body(&self) -> Result<String, Error> {
        check_line("origin", &self.origin)?;
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for ext in &self.extensions {
            check_line("extension", ext)?;
            text.push_str(ext);
            text.push('\n');
        }
        Ok(text)
    }

    /// `Ok` when this is a checkpoint of the log named `origin`, else
    /// [`Error::Origin`]. [`open`] checks it; a checkpoint read with
    /// [`parse_unverified`] or built by hand is checked here.
    pub fn check_origin(&self, origin: &str) -> Result<(), Error> {
        if self.origin == origin {
            Ok(())
        } else {
            Err(Error::Origin {
                expected: origin.to_owned(),
                found: self.origin.clone(),
            })
        }
    }

    /// Parses a note body (the text before the signatures). Neither
    /// signature nor origin is checked: [`open`] checks both.
    pub fn parse_body(text: &str) -> Result<Self, Error> {
        let lines = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("checkpoint body must end with a newline"))?;
        let mut lines = lines.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_line("origin", origin)?;
        let size_text = lines.next().ok_or_else(|| bad("missing tree size line"))?;
        let size = parse_size(size_text)?;
        let root_text = lines.next().ok_or_else(|| bad("missing root hash line"))?;
        let root_bytes = B64
            .decode(root_text)
            .map_err(|_| bad("root hash is not base64"))?;
        let root: Hash = root_bytes
            .as_slice()
            .try_into()
            .map_err(|_| bad(format!("root hash is {} bytes, not 32", root_bytes.len())))?;
        let mut extensions = Vec::new();
        for ext in lines {
            check_line("extension", ext)?;
            extensions.push(ext.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

fn parse_size(text: &str) -> Result<u64, Error> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(bad(format!(
            "tree size {:?} is not a decimal without leading zeros",
            custodia_core::echo(text)
        )));
    }
    text.parse()
        .map_err(|_| bad("tree size does not fit in 64 bits"))
}

fn check_line(what: &str, line: &str) -> Result<(), Error> {
    if line.is_empty() {
        return Err(bad(format!("empty {what} line")));
    }
    if line.chars().any(|c| c.is_control()) {
        return Err(bad(format!("{what} line contains a control character")));
    }
    Ok(())
}

fn check_key_name(name: &str) -> Result<(), Error> {
    if name.is_empty()
        || name.contains('+')
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(format!(
            "key name {:?} must be non-empty, without spaces or '+'",
            custodia_core::echo(name)
        )));
    }
    Ok(())
}

/// The 4-byte key hash of an Ed25519 note key.
pub fn key_hash(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&[ALG_ED25519]);
    ctx.update(public);
    let d = ctx.finish();
    let mut out = [0u8; 4];
    out.copy_from_slice(&d.as_ref()[..4]);
    out
}

/// A key string's name, key hash and key bytes.
type KeyParts = (String, [u8; 4], Zeroizing<Vec<u8>>);

/// Splits `prefix+rest` key strings. The key's bytes (a signer's seed) come
/// back zeroized on drop, as does every buffer they were decoded in.
fn parse_key_parts(text: &str, private: bool) -> Result<KeyParts, Error> {
    let text = text.trim();
    let rest = if private {
        text.strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("signer key must start with PRIVATE+KEY+"))?
    } else {
        text
    };
    // The base64 key may itself contain '+': split off name and hash only.
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("key must have the form name+hash+key"));
    };
    check_key_name(name)?;
    let hash_bytes: [u8; 4] = decode_hex4(hash)?;
    // Decoded into a buffer sized for the largest input, so that no growth
    // leaves a copy of the seed behind.
    let mut decoded = Zeroizing::new(Vec::with_capacity(key.len()));
    B64.decode_vec(key, &mut decoded)
        .map_err(|_| bad("key is not base64"))?;
    if decoded.len() != 33 || decoded[0] != ALG_ED25519 {
        return Err(bad(
            "key is not an Ed25519 note key (0x01 followed by 32 bytes)",
        ));
    }
    Ok((
        name.to_owned(),
        hash_bytes,
        Zeroizing::new(decoded[1..].to_vec()),
    ))
}

fn decode_hex4(text: &str) -> Result<[u8; 4], Error> {
    if text.len() != 8 {
        return Err(bad("key hash must be 8 hex digits"));
    }
    let value = u32::from_str_radix(text, 16).map_err(|_| bad("key hash must be 8 hex digits"))?;
    Ok(value.to_be_bytes())
}

/// A public key that checks checkpoint signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    hash: [u8; 4],
    public: [u8; 32],
}

impl Verifier {
    /// Parses `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`, checking
    /// that the hash matches the name and key.
    pub fn from_key_string(text: &str) -> Result<Self, Error> {
        let (name, hash, key) = parse_key_parts(text, false)?;
        let public: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| bad("public key must be 32 bytes"))?;
        if key_hash(&name, &public) != hash {
            return Err(bad("verifier key hash does not match its name and key"));
        }
        Ok(Self { name, hash, public })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key hash.
    pub fn key_hash(&self) -> [u8; 4] {
        self.hash
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.public)
            .verify(msg, sig)
            .is_ok()
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![ALG_ED25519];
        key.extend_from_slice(&self.public);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            u32::from_be_bytes(self.hash),
            B64.encode(key)
        )
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({self})")
    }
}

/// An Ed25519 signing key for checkpoints. The seed is zeroized on drop and
/// never printed.
pub struct Signer {
    name: String,
    seed: Zeroizing<[u8; 32]>,
    pair: Ed25519KeyPair,
}

impl Signer {
    /// A fresh key named `name`, from the OS random source.
    pub fn generate(name: &str) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(seed.as_mut())
            .map_err(|_| bad("the system random number generator failed"))?;
        Self::from_seed(name, seed)
    }

    fn from_seed(name: &str, seed: Zeroizing<[u8; 32]>) -> Result<Self, Error> {
        check_key_name(name)?;
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
            .map_err(|_| bad("invalid Ed25519 seed"))?;
        Ok(Self {
            name: name.to_owned(),
            seed,
            pair,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 ‖ seed)>`.
    pub fn from_key_string(text: &str) -> Result<Self, Error> {
        let (name, hash, key) = parse_key_parts(text, true)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&key);
        let signer = Self::from_seed(&name, seed)?;
        if signer.verifier().hash != hash {
            return Err(bad("signer key hash does not match its name and key"));
        }
        Ok(signer)
    }

    /// The key in `PRIVATE+KEY+…` form (secret: store it like a password).
    pub fn to_key_string(&self) -> Zeroizing<String> {
        let mut key = Zeroizing::new(vec![ALG_ED25519]);
        key.extend_from_slice(self.seed.as_ref());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            u32::from_be_bytes(self.verifier().hash),
            B64.encode(key.as_slice())
        ))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        Verifier {
            hash: key_hash(&self.name, &public),
            name: self.name.clone(),
            public,
        }
    }

    /// Signs `checkpoint`, giving the full signed note text.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<String, Error> {
        self.sign_text(&checkpoint.body()?)
    }

    /// Signs any note text (non-empty, ending in a newline, no control
    /// characters but newlines), giving the signed note.
    pub fn sign_text(&self, body: &str) -> Result<String, Error> {
        if body.is_empty() || !body.ends_with('\n') {
            return Err(bad("note text must be non-empty and end with a newline"));
        }
        if body.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad("note text contains a control character"));
        }
        let sig = self.pair.sign(body.as_bytes());
        let mut blob = self.verifier().hash.to_vec();
        blob.extend_from_slice(sig.as_ref());
        Ok(format!(
            "{body}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}, [redacted])", self.name)
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key hash.
    pub key_hash: [u8; 4],
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// Splits a signed note into its body and signature lines (no verification).
pub fn split_note(note: &str) -> Result<(&str, Vec<NoteSignature>), Error> {
    if note.len() > MAX_NOTE_LEN {
        return Err(bad(format!("note longer than {MAX_NOTE_LEN} bytes")));
    }
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line before the signatures"))?;
    let body = &note[..=split];
    let sig_text = &note[split + 2..];
    if body.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad("note text contains a control character"));
    }
    let sig_lines = sig_text
        .strip_suffix('\n')
        .ok_or_else(|| bad("signature block must end with a newline"))?;
    let mut signatures = Vec::new();
    for line in sig_lines.split('\n') {
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("signature line must start with an em dash and a space"))?;
        let (name, blob) = rest
            .split_once(' ')
            .ok_or_else(|| bad("signature line must be: name, space, base64"))?;
        check_key_name(name)?;
        let blob = B64
            .decode(blob)
            .map_err(|_| bad("signature is not base64"))?;
        if blob.len() < 5 {
            return Err(bad("signature too short"));
        }
        let mut key_hash = [0u8; 4];
        key_hash.copy_from_slice(&blob[..4]);
        signatures.push(NoteSignature {
            name: name.to_owned(),
            key_hash,
            signature: blob[4..].to_vec(),
        });
        if signatures.len() > MAX_SIGNATURES {
            return Err(bad(format!("more than {MAX_SIGNATURES} signatures")));
        }
    }
    Ok((body, signatures))
}

/// Verifies a signed checkpoint note of the log named `origin` with
/// `verifier` and parses it.
///
/// Fails unless a signature line carries the verifier's name and key hash and
/// a valid Ed25519 signature over the body ([`Error::Signature`]), and the
/// checkpoint's origin is `origin` ([`Error::Origin`]): a key that signs
/// several logs signs valid checkpoints of each, and only the origin tells
/// them apart.
pub fn open(note: &str, verifier: &Verifier, origin: &str) -> Result<Checkpoint, Error> {
    let checkpoint = Checkpoint::parse_body(open_text(note, verifier)?)?;
    checkpoint.check_origin(origin)?;
    Ok(checkpoint)
}

/// Verifies any signed note with `verifier` and returns its text.
///
/// It says who signed, not which log: for a checkpoint use [`open`], which
/// also checks the origin (parsing this text with
/// [`Checkpoint::parse_body`] does not).
pub fn open_text<'n>(note: &'n str, verifier: &Verifier) -> Result<&'n str, Error> {
    let (body, signatures) = split_note(note)?;
    let mut found = false;
    for sig in &signatures {
        if sig.name == verifier.name && sig.key_hash == verifier.hash {
            found = true;
            if verifier.verify(body.as_bytes(), &sig.signature) {
                return Ok(body);
            }
        }
    }
    Err(Error::Signature(if found {
        format!("the signature by {} is invalid", verifier.name)
    } else {
        format!("no signature by {}", verifier.name)
    }))
}

/// Parses a signed checkpoint note without checking any signature or its
/// origin (to read the tree head of a checkpoint whose key is not at hand;
/// [`Checkpoint::check_origin`] checks the origin).
pub fn parse_unverified(note: &str) -> Result<Checkpoint, Error> {
    let (body, _) = split_note(note)?;
    Checkpoint::parse_body(body)
}

/// Checks that `new` extends `old`: same origin, not smaller, and `proof`
/// is a valid consistency proof from `old`'s tree head to `new`'s.
///
/// A log that was truncated (smaller size) or forked (any changed record
/// before `old.size`) fails here, and so does a `new` of another log
/// ([`Error::Origin`], a finding as in [`open`]: a key that signs several
/// logs signs each one's checkpoints, and another log's may be offered as
/// this one's).
pub fn verify_extension(old: &Checkpoint, new: &Checkpoint, proof: &[Hash]) -> Result<(), Error> {
    new.check_origin(&old.origin)?;
    if new.size < old.size {
        return Err(Error::Truncated {
            trusted: old.size,
            found: new.size,
        });
    }
    if old.size == 0 {
        // Every tree extends the empty tree.
        return Ok(());
    }
    verify_consistency(old.size, new.size, &old.root, &new.root, proof)
}
