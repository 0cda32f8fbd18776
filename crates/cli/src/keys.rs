//! `custodia keys`: a keyring kept in an encrypted key-store file.
//!
//! The store is a [`FileKeyStore`] holding one [`Keyring`]: its versions
//! (each version key random, wrapped under the *master key*), the primary,
//! the retired versions and the data-key mode. The master key itself is never
//! in the store: it comes from a file (`--master-key-file`, base64, mode 0600)
//! or an environment variable (`--master-key-env`, base64), and is never
//! printed.
//!
//! # Envelope input (`reencrypt`, `retire`, `status --input`)
//!
//! One value per line; blank lines are passed through. A line is either
//!
//! * a JSON object (JSONL) such as
//!   `{"tenant":"<uuid>","record_type":"ticket","record_id":"T-1","field":"email","value":"cst1.…"}`:
//!   the envelope is the string under `--value-key` (default `value`; `null`
//!   means no value and is passed through), and the encryption context comes
//!   from the `tenant`, `record_type`, `record_id` and `field` keys (a
//!   `record_id` may be a number). Other keys are kept as they are; or
//! * a bare `cst1.…` envelope, whose context must then come from the flags
//!   `--tenant`, `--record-type`, `--record-id` and `--field`.
//!
//! The flags also fill in any context key a JSON line lacks. `retire` and
//! `status` only look at which key version sealed each envelope, so they need
//! no context.
//!
//! # Subject keys in the store
//!
//! A store used for subject keys (`dsr`, `audit append --subject-keys`, the
//! helpdesk's `keys.store`) also holds every person's key, each wrapped under
//! the tenant data key of the version that was primary when the key was
//! made. They are data under that version like any envelope: `rotate`
//! rewraps them to the new primary, `rewrap` does so again (for keys another
//! process made under the old primary before it saw the rotation), `status`
//! counts them per version and `retire` refuses while any is wrapped under
//! the version.
//!
//! # Exit codes
//!
//! `0` ok; `1` a finding (`retire` refused: the version is primary, or the
//! scan still finds envelopes under it, or the store still holds subject
//! keys wrapped under it); `2` a usage or input error (bad
//! flags, wrong master key, an existing store on `init`, a bad input line,
//! named by its number).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use custodia_core::{Clock, TenantId};
use custodia_crypt::durable;
use custodia_crypt::envelope::{self, Envelope};
use custodia_crypt::{
    DataKeyMode, Error, FieldContext, FileKeyStore, KeyId, KeyStore, KeyUsage, Keyring, NonceUsage,
    SecretKey, SubjectVault,
};
use indicatif::ProgressBar;
use serde_json::{Value, json};

pub const EXIT_CODES: &str = "Exit codes: 0 ok, 1 finding (retire refused: primary or still in use), 2 usage or input error.";

/// `after_help` of `keys` and the subcommands of a rotation: the exit
/// codes and the rotation procedure.
pub const ROTATION_HELP: &str = concat!(
    "Exit codes: 0 ok, 1 finding (retire refused: primary or still in use), 2 usage or input error.",
    "\n\n",
    "Rotating keys: (1) `keys rotate` adds a new primary version and ",
    "rewraps the subject keys held in the store; (2) wait the keyring's staleness bound (1 s by ",
    "default) plus the longest write in flight, so that every process seals under the new version; ",
    "(3) `keys rewrap` (subject keys other processes made meanwhile) and `keys reencrypt` every ",
    "stored envelope; (4) `keys status --input ...` shows the old version unused (no envelope, no ",
    "subject key); (5) `keys retire OLD --input ...` with every place envelopes are kept. Retire ",
    "refuses (exit 1) while the scan or the store's own subject keys still use the version."
);

/// The `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key store holding a new keyring (version 1). Refuses to
    /// overwrite an existing file.
    ///
    /// Without --master-key-file or --master-key-env a new master key is
    /// generated and written (base64, mode 0600) to --write-master-key FILE;
    /// it is never printed.
    ///
    /// --json prints {"store","mode","primary","master_key_file"}
    /// (master_key_file null unless --write-master-key).
    #[command(after_help = EXIT_CODES)]
    Init(InitArgs),
    /// Add a new primary key version; older versions keep decrypting until
    /// retired. The subject keys held in the store are rewrapped under it.
    ///
    /// --json prints {"store","old","new","rewrapped_subject_keys"}.
    #[command(after_help = ROTATION_HELP)]
    Rotate(RotateArgs),
    /// Show the keyring: versions, primary, retired, mode, the subject keys
    /// the store holds per version; with --input, how many envelopes each
    /// version still seals.
    ///
    /// --json prints {"store","mode","primary","versions","retired",
    /// "nonce_limit","nonce_warning","nonce_usage":[{"version","tenant_keys",
    /// "max_reserved","past_warning","keys":[{"tenant","reserved",
    /// "remaining"}]}],"rotation_due","subject_keys":{"total","by_version"}},
    /// and with --input also "scan":{"envelopes","by_version","other_keys",
    /// "unused"}.
    ///
    /// Memory does not grow with the input: lines are read one at a time,
    /// and a line longer than 16 MiB is an input error (exit 2) naming its
    /// number.
    #[command(after_help = ROTATION_HELP)]
    Status(StatusArgs),
    /// Re-encrypt envelopes (one per line, bare `cst1.` or JSON lines) to the
    /// primary version, and report counts.
    ///
    /// JSON lines carry their context:
    /// {"tenant":"<uuid>","record_type":"ticket","record_id":"T-1","field":"email","value":"cst1.…"}.
    /// Bare `cst1.` lines take it from --tenant, --record-type, --record-id and
    /// --field. The counts go to standard error when the output is standard
    /// output, else to standard output. With --json the counts are
    /// {"lines","envelopes","reencrypted","unchanged","primary",
    /// "from_versions","nonce_usage":[{"tenant","key","sealed","reserved",
    /// "remaining"}]}; the envelope lines are unchanged by it.
    ///
    /// With --output - a reader that goes away before the end (`| head`) is
    /// an error (exit 2, "writing output: Broken pipe"), unlike `categories`
    /// or `retention eval`, which only report: the re-encrypted lines it did
    /// not take are lost, and an exit 0 would say they were written. The
    /// input is left as it was; run it again.
    ///
    /// Memory does not grow with the input: lines are read one at a time,
    /// and a line longer than 16 MiB is an input error (exit 2) naming its
    /// number.
    #[command(after_help = ROTATION_HELP)]
    Reencrypt(ReencryptArgs),
    /// Rewrap the subject keys held in the store under the primary version
    /// (`rotate` already does; run it again before `retire` for keys that
    /// processes made under the old primary before they saw the rotation).
    /// Idempotent; shredded keys stay shredded.
    ///
    /// --json prints {"store","primary","rewrapped_subject_keys","subject_keys"}.
    #[command(after_help = ROTATION_HELP)]
    Rewrap(RewrapArgs),
    /// Retire a key version, only if a scan of --input finds no envelope
    /// still sealed under it and no subject key in the store is still
    /// wrapped under it (exit 1 otherwise).
    ///
    /// The scan must cover every place envelopes are stored: a version
    /// retired while data elsewhere still uses it makes that data unreadable.
    /// The store's own subject keys are always checked: run `keys rewrap` to
    /// move them.
    ///
    /// --json prints {"ok":true,"store","retired","scanned"}, or
    /// {"ok":false,"finding"} with exit 1 when it refuses.
    ///
    /// Memory does not grow with the input: lines are read one at a time,
    /// and a line longer than 16 MiB is an input error (exit 2) naming its
    /// number.
    #[command(after_help = ROTATION_HELP)]
    // --input is optional for `status` (shared `ScanArgs`), required here:
    // without a scan there is nothing to refuse on.
    #[command(mut_arg("input", |input| input.required(true)))]
    Retire(RetireArgs),
}

/// Where the key store is and how to get its master key.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The key-store file.
    #[arg(long, value_name = "FILE")]
    store: PathBuf,
    /// Read the master key (base64 of 32 bytes, mode 0600) from FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "master_key_env")]
    master_key_file: Option<PathBuf>,
    /// Read the master key (base64 of 32 bytes) from environment variable VAR.
    #[arg(long, value_name = "VAR")]
    master_key_env: Option<String>,
    /// Print one JSON document instead of text (`reencrypt` keeps its
    /// envelope lines and prints its counts as JSON); a refused `retire`
    /// prints {"ok":false,"finding"} and exits 1.
    #[arg(long)]
    json: bool,
}

/// Arguments of `keys init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// How tenant data keys are made: `derived` (HKDF, nothing stored per
    /// tenant) or `random` (stored per tenant, so a tenant can be shredded).
    #[arg(long, value_enum, default_value_t = Mode::Derived)]
    mode: Mode,
    /// Write a newly generated master key here (created with mode 0600; must
    /// not exist). Required when no master key is given.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["master_key_file", "master_key_env"])]
    write_master_key: Option<PathBuf>,
}

/// Arguments of `keys rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Arguments of `keys rewrap`.
#[derive(Debug, Args)]
pub struct RewrapArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Arguments of `keys status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    scan: ScanArgs,
}

/// Envelope files to scan for key usage.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Envelope lines to scan (`-` for standard input); repeatable.
    #[arg(long, value_name = "FILE")]
    input: Vec<PathBuf>,
    /// The JSON key holding the envelope in JSON lines.
    #[arg(long, value_name = "KEY", default_value = "value")]
    value_key: String,
}

/// Arguments of `keys retire`.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The version to retire, e.g. `1`.
    #[arg(value_name = "VERSION")]
    version: u32,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    scan: ScanArgs,
}

/// Arguments of `keys reencrypt`.
#[derive(Debug, Args)]
pub struct ReencryptArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Envelope lines to read (`-` for standard input).
    #[arg(long, value_name = "FILE", default_value = "-")]
    input: PathBuf,
    /// Where to write the re-encrypted lines (`-` for standard output). A file
    /// is written beside as FILE.tmp, synced and renamed into place on
    /// success, with the mode of the file it replaces (else of the input
    /// file, else 0600); it may be the input itself. Standard output closed
    /// early (a broken pipe) is an error (exit 2): lines were lost.
    #[arg(long, value_name = "FILE", default_value = "-")]
    output: PathBuf,
    /// The JSON key holding the envelope in JSON lines.
    #[arg(long, value_name = "KEY", default_value = "value")]
    value_key: String,
    /// Tenant id of bare lines (and of JSON lines without `tenant`).
    #[arg(long)]
    tenant: Option<TenantId>,
    /// Record type of bare lines (and of JSON lines without `record_type`).
    #[arg(long)]
    record_type: Option<String>,
    /// Record id of bare lines (and of JSON lines without `record_id`).
    #[arg(long)]
    record_id: Option<String>,
    /// Field name of bare lines (and of JSON lines without `field`).
    #[arg(long)]
    field: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Derived,
    Random,
}

impl From<Mode> for DataKeyMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Derived => DataKeyMode::Derived,
            Mode::Random => DataKeyMode::Random,
        }
    }
}

fn mode_name(mode: DataKeyMode) -> &'static str {
    match mode {
        DataKeyMode::Random => "random",
        // Derived, and any mode a later custodia-crypt adds.
        _ => "derived",
    }
}

/// Why a command stopped.
enum Failure {
    /// Exit 1: the check ran and found something.
    Finding(String),
    /// Exit 2: bad flags or input.
    Usage(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Usage(message)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Usage(e.to_string())
    }
}

/// Runs a `keys` subcommand for `main`: a finding is printed and exits 1;
/// a usage or input error comes back as the message `main` prints before
/// exiting 2.
pub fn run(command: KeysCommand) -> Result<(), String> {
    let json = match &command {
        KeysCommand::Init(args) => args.store.json,
        KeysCommand::Rotate(args) => args.store.json,
        KeysCommand::Status(args) => args.store.json,
        KeysCommand::Reencrypt(args) => args.store.json,
        KeysCommand::Rewrap(args) => args.store.json,
        KeysCommand::Retire(args) => args.store.json,
    };
    let result = match command {
        KeysCommand::Init(args) => init(&args),
        KeysCommand::Rotate(args) => rotate(&args),
        KeysCommand::Status(args) => status(&args),
        KeysCommand::Reencrypt(args) => reencrypt(&args),
        KeysCommand::Rewrap(args) => rewrap(&args),
        KeysCommand::Retire(args) => retire(&args),
    };
    match result {
        Ok(()) => Ok(()),
        Err(Failure::Usage(message)) => Err(message),
        Err(Failure::Finding(message)) => {
            if json {
                // A finding is a result: say so on standard output too.
                let _ = emit(true, &json!({"ok": false, "finding": message}), "");
            }
            let _ = io::stdout().flush();
            eprintln!("custodia: {message}");
            std::process::exit(1)
        }
    }
}

/// Prints `text` or `value` to standard output, as `--json` asks; a closed
/// pipe is not an error.
fn emit(json: bool, value: &Value, text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    let written = if json {
        writeln!(out, "{value}")
    } else {
        write!(out, "{text}")
    };
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn versions_text(versions: &[u32]) -> String {
    if versions.is_empty() {
        "none".to_owned()
    } else {
        versions
            .iter()
            .map(|v| format!("v{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl StoreArgs {
    /// The master key the flags name, if any. Errors never show key bytes.
    fn master_key(&self) -> Result<Option<SecretKey>, Failure> {
        let loaded = match (&self.master_key_file, &self.master_key_env) {
            (Some(path), _) => SecretKey::from_file(path),
            (None, Some(var)) => SecretKey::from_env(var),
            (None, None) => return Ok(None),
        };
        loaded
            .map(Some)
            .map_err(|e| Failure::Usage(format!("master key: {}", plain(&e))))
    }

    fn required_master_key(&self) -> Result<SecretKey, Failure> {
        self.master_key()?.ok_or_else(|| {
            Failure::Usage(
                "give the master key with --master-key-file FILE or --master-key-env VAR".into(),
            )
        })
    }

    /// Opens the existing store and its keyring.
    fn open(&self) -> Result<Keyring, Failure> {
        self.open_with_store().map(|(_, keyring)| keyring)
    }

    /// Opens the existing store and its keyring, and keeps the store (for
    /// its subject keys).
    fn open_with_store(&self) -> Result<(Arc<FileKeyStore>, Keyring), Failure> {
        if !self.store.exists() {
            return Err(Failure::Usage(format!(
                "{}: no key store here; create one with `custodia keys init`",
                self.store.display()
            )));
        }
        let master = self.required_master_key()?;
        let store = Arc::new(
            FileKeyStore::open(&self.store, &master).map_err(|e| store_error(&self.store, &e))?,
        );
        let keyring = Keyring::open_stored(Arc::clone(&store), &master)
            .map_err(|e| store_error(&self.store, &e))?
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{}: the key store holds no keyring",
                    self.store.display()
                ))
            })?;
        Ok((store, keyring))
    }
}

/// The subject keys the store holds (wrapped, not shredded), counted by the
/// tenant-key version they are wrapped under.
fn subject_key_usage(store: &FileKeyStore, path: &Path) -> Result<KeyUsage, Failure> {
    let wrapped = store.wrapped_keys().map_err(|e| store_error(path, &e))?;
    Ok(KeyUsage::scan(wrapped.iter().map(|(_, _, e)| e.as_slice())))
}

/// Rewraps the store's subject keys under `keyring`'s primary; how many moved.
fn rewrap_subject_keys(
    store: Arc<FileKeyStore>,
    keyring: Keyring,
    path: &Path,
) -> Result<usize, Failure> {
    let vault = SubjectVault::new(
        Arc::new(keyring),
        store,
        Arc::new(custodia_core::SystemClock),
    );
    vault.rewrap().map_err(|e| store_error(path, &e))
}

/// [`open_subject_vault`] over a store that must already exist, for the
/// commands that read what it holds (`dsr`, `audit export`): a missing
/// file (a mistyped path) would open as an empty store, and fail later
/// with "no key to decrypt with" instead of naming the file.
pub(crate) fn open_existing_subject_vault(
    master: &Path,
    store: &Path,
    clock: Arc<dyn Clock>,
) -> Result<SubjectVault<Arc<FileKeyStore>>, String> {
    if !store.is_file() {
        return Err(format!(
            "{}: no such key store (--subject-keys)",
            store.display()
        ));
    }
    open_subject_vault(master, store, clock)
}

/// The subject-key vault over the key store at `store`, under the master
/// key in the file `master`: the store's own keyring when it holds one (a
/// host's random tenant keys), else a keyring derived from the master key.
/// A store that does not exist opens empty (`audit append` may start one);
/// the commands that only read one use [`open_existing_subject_vault`].
pub(crate) fn open_subject_vault(
    master: &Path,
    store: &Path,
    clock: Arc<dyn Clock>,
) -> Result<SubjectVault<Arc<FileKeyStore>>, String> {
    let master = SecretKey::from_file(master).map_err(|e| e.to_string())?;
    let store = Arc::new(FileKeyStore::open(store, &master).map_err(|e| e.to_string())?);
    let keyring = match Keyring::open_stored(Arc::clone(&store), &master) {
        Ok(Some(keyring)) => keyring,
        Ok(None) => Keyring::new(master),
        Err(e) => return Err(e.to_string()),
    };
    Ok(SubjectVault::new(Arc::new(keyring), store, clock))
}

/// An error's message without the `key store: ` prefix of [`Error::Store`],
/// [`Error::Io`] and [`Error::Decode`].
pub(crate) fn plain(e: &Error) -> String {
    match e {
        Error::Store(message) => message.clone(),
        Error::Io { path, source } => format!("{}: {source}", path.display()),
        Error::Decode { path, source } => {
            format!("{}: contents do not decode: {source}", path.display())
        }
        other => other.to_string(),
    }
}

fn store_error(path: &Path, e: &Error) -> Failure {
    Failure::Usage(match e {
        Error::Decrypt => format!(
            "{}: cannot open the key store: wrong master key, or the file was modified",
            path.display()
        ),
        Error::Store(message) if message.contains(&path.display().to_string()) => message.clone(),
        Error::Io { path: file, .. } | Error::Decode { path: file, .. }
            if file
                .as_os_str()
                .to_string_lossy()
                .starts_with(&*path.to_string_lossy()) =>
        {
            plain(e)
        }
        other => format!("{}: {}", path.display(), plain(other)),
    })
}

fn init(args: &InitArgs) -> Result<(), Failure> {
    let path = &args.store.store;
    if path.exists() {
        return Err(Failure::Usage(format!(
            "{}: already exists; refusing to overwrite a key store (use `custodia keys rotate` to add a version)",
            path.display()
        )));
    }
    let (master, written) = match (args.store.master_key()?, &args.write_master_key) {
        (Some(master), _) => (master, None),
        (None, Some(key_path)) => (write_new_master_key(key_path)?, Some(key_path)),
        (None, None) => {
            return Err(Failure::Usage(
                "give the master key with --master-key-file FILE or --master-key-env VAR, \
                 or have a new one generated into --write-master-key FILE"
                    .into(),
            ));
        }
    };
    let keyring = match create_store(path, &master, args.mode.into()) {
        Ok(keyring) => keyring,
        Err(failure) => {
            if let Some(key_path) = written {
                // The key protects nothing yet: do not leave it behind.
                let _ = fs::remove_file(key_path);
            }
            return Err(failure);
        }
    };
    let mode = mode_name(keyring.mode());
    let mut text = format!(
        "created key store {}: mode {mode}, primary v{}\n",
        path.display(),
        keyring.primary()
    );
    if let Some(key_path) = written {
        text.push_str(&format!(
            "wrote a new master key to {} (mode 0600); keep it apart from the store: \
             without it the store cannot be opened\n",
            key_path.display()
        ));
    }
    let value = json!({
        "store": path.display().to_string(),
        "mode": mode,
        "primary": keyring.primary(),
        "master_key_file": written.map(|p| p.display().to_string()),
    });
    emit(args.store.json, &value, &text)
}

/// Creates the store beside `path` and links it into place, so that a store
/// another process created meanwhile is never replaced.
fn create_store(path: &Path, master: &SecretKey, mode: DataKeyMode) -> Result<Keyring, Failure> {
    let mut staged = path.as_os_str().to_owned();
    staged.push(format!(".init-{}", std::process::id()));
    let staged = PathBuf::from(staged);
    // Left by a crashed run of a process with this id: never a live store.
    let _ = fs::remove_file(&staged);
    let keyring = FileKeyStore::open(&staged, master)
        .and_then(|store| Keyring::from_store(store, master, mode))
        .map_err(|e| store_error(path, &e));
    let placed = keyring.and_then(|keyring| {
        // A hard link never replaces an existing file; where links are not
        // supported, fall back to a checked rename.
        match fs::hard_link(&staged, path) {
            Ok(()) => Ok(keyring),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Failure::Usage(format!(
                "{}: already exists; refusing to overwrite a key store",
                path.display()
            ))),
            Err(_) if !path.exists() => fs::rename(&staged, path)
                .map(|()| keyring)
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display()))),
            Err(e) => Err(Failure::Usage(format!("{}: {e}", path.display()))),
        }
    });
    let _ = fs::remove_file(&staged);
    // And the store's lock file: no other process knows the staged name.
    let mut lock = staged.into_os_string();
    lock.push(".lock");
    let _ = fs::remove_file(lock);
    placed
}

/// Generates a master key and writes it, base64, to a new 0600 file:
/// synced before the store that needs it is made, and nothing left behind
/// if the write fails.
fn write_new_master_key(path: &Path) -> Result<SecretKey, Failure> {
    let key = SecretKey::generate().map_err(|e| Failure::Usage(e.to_string()))?;
    let shown = path.display();
    crate::write_new_key_file(path, &key.to_base64()).map_err(|e| {
        Failure::Usage(if e.kind() == io::ErrorKind::AlreadyExists {
            format!("{shown}: already exists; refusing to overwrite a master key")
        } else {
            format!("{shown}: {e}")
        })
    })?;
    Ok(key)
}

/// How often `rotate` reopens the store when another process changed the
/// keyring between its read and its write.
const ROTATE_ATTEMPTS: u32 = 8;

fn rotate(args: &RotateArgs) -> Result<(), Failure> {
    let mut attempt = 1;
    let (old, new, store, keyring) = loop {
        let (store, keyring) = args.store.open_with_store()?;
        let old = keyring.primary();
        let new_key = SecretKey::generate().map_err(|e| Failure::Usage(e.to_string()))?;
        match keyring.rotate(new_key) {
            Ok(new) => break (old, new, store, keyring),
            // Another rotation won the race and nothing was written: ours
            // goes on top of it.
            Err(Error::KeyringChanged) if attempt < ROTATE_ATTEMPTS => attempt += 1,
            Err(e) => return Err(store_error(&args.store.store, &e)),
        }
    };
    // The subject keys in the store are wrapped under the old primary:
    // move them now, so that they never hold the old version back (and
    // never strand when it retires: `retire` checks them too).
    let rewrapped = rewrap_subject_keys(store, keyring, &args.store.store).map_err(|failure| {
        let (Failure::Usage(message) | Failure::Finding(message)) = failure;
        Failure::Usage(format!(
            "rotated to v{new}, but rewrapping the subject keys failed ({message}); \
             run `custodia keys rewrap`"
        ))
    })?;
    let text = format!(
        "rotated {}: v{old} → v{new} (v{new} seals from now on; v{old} still decrypts until retired); \
         rewrapped {rewrapped} subject keys under v{new}\n",
        args.store.store.display()
    );
    let value = json!({
        "store": args.store.store.display().to_string(),
        "old": old,
        "new": new,
        "rewrapped_subject_keys": rewrapped,
    });
    emit(args.store.json, &value, &text)
}

fn rewrap(args: &RewrapArgs) -> Result<(), Failure> {
    let (store, keyring) = args.store.open_with_store()?;
    let primary = keyring.primary();
    let rewrapped = rewrap_subject_keys(Arc::clone(&store), keyring, &args.store.store)?;
    let usage = subject_key_usage(&store, &args.store.store)?;
    let total: u64 = usage.iter().map(|(_, n)| n).sum();
    let text = format!(
        "rewrapped {rewrapped} subject keys under v{primary} in {} ({total} subject keys held)\n",
        args.store.store.display()
    );
    let value = json!({
        "store": args.store.store.display().to_string(),
        "primary": primary,
        "rewrapped_subject_keys": rewrapped,
        "subject_keys": total,
    });
    emit(args.store.json, &value, &text)
}

/// Counts which key sealed each envelope of the scanned inputs.
struct Scan {
    usage: KeyUsage,
    envelopes: u64,
}

impl ScanArgs {
    fn scan(&self) -> Result<Scan, Failure> {
        let mut usage = KeyUsage::default();
        let mut envelopes = 0;
        for path in &self.input {
            let reader = open_input(path)?;
            let name = input_name(path);
            let progress = crate::input_progress(path);
            for_each_line(reader, &name, &progress, |number, line| {
                let at = |message: String| format!("{name}: line {number}: {message}");
                let Some(text) = envelope_text(line, &self.value_key).map_err(at)? else {
                    return Ok(());
                };
                let bytes = decode(text).map_err(at)?;
                usage.add(&bytes);
                envelopes += 1;
                Ok(())
            })?;
            progress.finish_and_clear();
        }
        Ok(Scan { usage, envelopes })
    }
}

fn status(args: &StatusArgs) -> Result<(), Failure> {
    let (store, keyring) = args.store.open_with_store()?;
    let subject_keys = subject_key_usage(&store, &args.store.store)?;
    let scan = if args.scan.input.is_empty() {
        None
    } else {
        Some(args.scan.scan()?)
    };
    let versions = keyring.versions();
    let primary = keyring.primary();
    let mode = mode_name(keyring.mode());
    let mut text = format!(
        "key store  {}\nmode       {mode}\nprimary    v{primary}\nversions   {} (these decrypt)\nretired    {}\n",
        args.store.store.display(),
        versions_text(&versions),
        versions_text(&keyring.retired()),
    );
    let subject_total: u64 = subject_keys.iter().map(|(_, n)| n).sum();
    text.push_str(&format!(
        "subject    {subject_total} subject keys in the store{}\n",
        if subject_total == 0 {
            String::new()
        } else {
            format!(
                ", wrapped under {}",
                versions
                    .iter()
                    .map(|v| format!("v{v} {}", subject_keys.tenant_count(*v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ));
    let nonces = nonce_report(&keyring, &versions, primary)
        .map_err(|e| store_error(&args.store.store, &e))?;
    text.push_str(&nonces.text);
    let mut value = json!({
        "store": args.store.store.display().to_string(),
        "mode": mode,
        "primary": primary,
        "versions": versions,
        "retired": keyring.retired(),
        "nonce_limit": keyring.nonce_budget().limit(),
        "nonce_warning": keyring.nonce_budget().warning(),
        "nonce_usage": nonces.json,
        "rotation_due": nonces.rotation_due,
        "subject_keys": {
            "total": subject_total,
            "by_version": versions
                .iter()
                .map(|&v| (v.to_string(), subject_keys.tenant_count(v)))
                .collect::<BTreeMap<String, u64>>(),
        },
    });
    if let Some(scan) = scan {
        let by_version: BTreeMap<String, u64> = versions
            .iter()
            .map(|&v| (v.to_string(), scan.usage.tenant_count(v)))
            .collect();
        let unused: Vec<u32> = versions
            .iter()
            .copied()
            .filter(|&v| {
                v != primary && scan.usage.tenant_count(v) == 0 && subject_keys.tenant_count(v) == 0
            })
            .collect();
        // Envelopes under a version the ring no longer holds, or a subject key.
        let other: u64 = scan
            .usage
            .iter()
            .filter(
                |(key, _)| !matches!(key, KeyId::Tenant { version } if versions.contains(version)),
            )
            .map(|(_, n)| n)
            .sum();
        text.push_str(&format!(
            "scanned    {} envelopes: {}\n",
            scan.envelopes,
            versions
                .iter()
                .map(|v| format!("v{v} {}", scan.usage.tenant_count(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if other > 0 {
            text.push_str(&format!(
                "other      {other} envelopes under keys not in this keyring\n"
            ));
        }
        text.push_str(&format!(
            "unused     {}{}\n",
            versions_text(&unused),
            if unused.is_empty() {
                ""
            } else {
                " (no scanned envelope and no subject key in the store: can be retired if the scan covered all data)"
            }
        ));
        value["scan"] = json!({
            "envelopes": scan.envelopes,
            "by_version": by_version,
            "other_keys": other,
            "unused": unused,
        });
    }
    emit(args.store.json, &value, &text)
}

/// The stored nonce usage of each version, for `keys status`.
struct NonceReport {
    text: String,
    json: Value,
    rotation_due: bool,
}

/// Per version still in the ring: how many tenant keys sealed under it and
/// the largest count among them (the limit is per tenant key, so the fullest
/// key is the one that matters), from the key store: every process counts.
fn nonce_report(keyring: &Keyring, versions: &[u32], primary: u32) -> Result<NonceReport, Error> {
    let usage = keyring.stored_nonce_usage()?;
    let budget = keyring.nonce_budget();
    let mut text = format!(
        "nonces     stored per (tenant, version) key, all processes together: {} per key, \
         rotate from {}\n",
        power_text(budget.limit()),
        power_text(budget.warning()),
    );
    let mut json_versions = Vec::new();
    let mut rotation_due = false;
    for &version in versions {
        let keys: Vec<&NonceUsage> = usage
            .iter()
            .filter(|u| u.key == KeyId::Tenant { version })
            .collect();
        let fullest = keys.iter().map(|u| u.reserved).max().unwrap_or(0);
        let due = keys.iter().filter(|u| u.needs_rotation()).count();
        if version == primary && due > 0 {
            rotation_due = true;
        }
        let line = if keys.is_empty() {
            "nothing sealed".to_string()
        } else {
            format!(
                "{} tenant keys, fullest {fullest} reserved ({:.2}% of the limit){}",
                keys.len(),
                fullest as f64 * 100.0 / budget.limit() as f64,
                if due > 0 {
                    format!(", {due} past the rotation threshold")
                } else {
                    String::new()
                }
            )
        };
        text.push_str(&format!("  v{version}     {line}\n"));
        json_versions.push(json!({
            "version": version,
            "tenant_keys": keys.len(),
            "max_reserved": fullest,
            "past_warning": due,
            "keys": keys.iter().map(|u| json!({
                "tenant": u.tenant.to_string(),
                "reserved": u.reserved,
                "remaining": u.remaining(),
            })).collect::<Vec<_>>(),
        }));
    }
    if rotation_due {
        text.push_str(&format!(
            "rotation   DUE: a v{primary} tenant key passed the threshold; run `custodia keys rotate`\n"
        ));
    }
    Ok(NonceReport {
        text,
        json: Value::Array(json_versions),
        rotation_due,
    })
}

/// `2^32` for a power of two, else the number.
fn power_text(n: u64) -> String {
    if n.is_power_of_two() {
        format!("2^{}", n.trailing_zeros())
    } else {
        n.to_string()
    }
}

fn retire(args: &RetireArgs) -> Result<(), Failure> {
    let (store, keyring) = args.store.open_with_store()?;
    let version = args.version;
    if !keyring.versions().contains(&version) {
        let why = if keyring.retired().contains(&version) {
            "is already retired"
        } else {
            "is not in this keyring"
        };
        return Err(Failure::Usage(format!("v{version} {why}")));
    }
    if version == keyring.primary() {
        return Err(Failure::Finding(format!(
            "refusing to retire v{version}: it is the primary version; rotate first"
        )));
    }
    let scan = args.scan.scan()?;
    let envelopes = scan.usage.tenant_count(version);
    if envelopes > 0 {
        return Err(Failure::Finding(format!(
            "refusing to retire v{version}: {envelopes} of {} scanned envelopes still use it; \
             run `custodia keys reencrypt` first",
            scan.envelopes
        )));
    }
    // The store's own subject keys (`Keyring::retire` checks them too; here
    // the message can say what to run).
    let subject_keys = subject_key_usage(&store, &args.store.store)?.tenant_count(version);
    if subject_keys > 0 {
        return Err(Failure::Finding(format!(
            "refusing to retire v{version}: {subject_keys} subject keys in the key store are \
             still wrapped under it (retiring it would erase those people's data); \
             run `custodia keys rewrap` first"
        )));
    }
    keyring.retire(version, &scan.usage).map_err(|e| match e {
        Error::KeyInUse { .. } => Failure::Finding(format!("refusing to retire v{version}: {e}")),
        other => store_error(&args.store.store, &other),
    })?;
    let text = format!(
        "retired v{version} in {} ({} scanned envelopes and the store's subject keys, none under v{version})\n",
        args.store.store.display(),
        scan.envelopes
    );
    let value = json!({
        "ok": true,
        "store": args.store.store.display().to_string(),
        "retired": version,
        "scanned": scan.envelopes,
    });
    emit(args.store.json, &value, &text)
}

/// Counts of a re-encryption run.
#[derive(Default)]
struct Counts {
    lines: u64,
    envelopes: u64,
    reencrypted: u64,
    unchanged: u64,
    from: BTreeMap<u32, u64>,
}

fn reencrypt(args: &ReencryptArgs) -> Result<(), Failure> {
    let keyring = args.store.open()?;
    let reader = open_input(&args.input)?;
    let name = input_name(&args.input);
    let to_stdout = is_dash(&args.output);
    // A file is written beside as FILE.tmp, synced and renamed into place
    // (see `custodia_crypt::durable`), with the mode of the file it
    // replaces, else of the input, else 0600: rewriting a private file in
    // place keeps it private.
    let staged = if to_stdout {
        None
    } else {
        let mode = output_mode(&args.output, &args.input);
        Some(
            durable::AtomicFile::create(&args.output, mode)
                .map_err(|e| Failure::Usage(format!("{}.tmp: {e}", args.output.display())))?,
        )
    };
    let sink = match staged {
        None => Sink::Stdout(io::stdout().lock()),
        Some(file) => Sink::File(file),
    };
    let mut out = BufWriter::new(sink);
    let primary = keyring.primary();
    let mut counts = Counts::default();
    let progress = crate::input_progress(&args.input);
    let result = for_each_line(reader, &name, &progress, |number, line| {
        counts.lines += 1;
        let at = |message: String| format!("{name}: line {number}: {message}");
        let rewritten = reencrypt_line(&keyring, args, line, &mut counts).map_err(at)?;
        out.write_all(rewritten.as_deref().unwrap_or(line).as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| format!("writing output: {e}"))
    })
    .and_then(|()| {
        out.flush()
            .map_err(|e| Failure::Usage(format!("writing output: {e}")))
    });
    progress.finish_and_clear();
    // On an error the staged file is dropped, which removes FILE.tmp.
    result?;
    let sink = out
        .into_inner()
        .map_err(|e| Failure::Usage(format!("writing output: {}", e.error())))?;
    if let Sink::File(file) = sink {
        file.commit()
            .map_err(|e| Failure::Usage(format!("{}: {e}", args.output.display())))?;
    }
    let from: BTreeMap<String, u64> = counts
        .from
        .iter()
        .map(|(v, n)| (v.to_string(), *n))
        .collect();
    let value = json!({
        "lines": counts.lines,
        "envelopes": counts.envelopes,
        "reencrypted": counts.reencrypted,
        "unchanged": counts.unchanged,
        "primary": primary,
        "from_versions": from,
        // Seals this run made per (tenant, version) key, and the stored count of all processes.
        "nonce_usage": keyring.usage().iter().map(|u| json!({
            "tenant": u.tenant.to_string(),
            "key": u.key.to_string(),
            "sealed": u.sealed,
            "reserved": u.reserved,
            "remaining": u.remaining(),
        })).collect::<Vec<_>>(),
    });
    let moved = if counts.from.is_empty() {
        String::new()
    } else {
        format!(
            " (from {})",
            counts
                .from
                .iter()
                .map(|(v, n)| format!("v{v}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let text = format!(
        "{} lines, {} envelopes: {} re-encrypted to v{primary}{moved}, {} already under v{primary}\n",
        counts.lines, counts.envelopes, counts.reencrypted, counts.unchanged
    );
    if to_stdout {
        // The data owns standard output: the counts go to standard error.
        if args.store.json {
            eprintln!("{value}");
        } else {
            eprint!("{text}");
        }
        Ok(())
    } else {
        emit(args.store.json, &value, &text)
    }
}

/// Where `reencrypt` writes: standard output, or a file staged beside its
/// destination.
enum Sink<'a> {
    Stdout(io::StdoutLock<'a>),
    File(durable::AtomicFile),
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(buf),
            Sink::File(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::File(file) => file.flush(),
        }
    }
}

/// The permission bits `reencrypt` gives its output file: those of the file
/// it replaces, else those of the input file, else 0600.
fn output_mode(output: &Path, input: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode_of = |path: &Path| {
            fs::metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.permissions().mode() & 0o777)
        };
        mode_of(output)
            .or_else(|| (!is_dash(input)).then(|| mode_of(input)).flatten())
            .unwrap_or(0o600)
    }
    #[cfg(not(unix))]
    {
        let _ = (output, input);
        0o600
    }
}

/// Re-encrypts one line; `None` means it is written back unchanged.
fn reencrypt_line(
    keyring: &Keyring,
    args: &ReencryptArgs,
    line: &str,
    counts: &mut Counts,
) -> Result<Option<String>, String> {
    let Some(text) = envelope_text(line, &args.value_key)? else {
        return Ok(None);
    };
    let bytes = decode(text)?;
    let object = parse_object(line)?;
    let tenant = match object.as_ref().and_then(|o| o.get("tenant")) {
        Some(Value::String(s)) => s
            .parse::<TenantId>()
            .map_err(|e| format!("\"tenant\": {e}"))?,
        Some(_) => return Err("\"tenant\" must be a string (a tenant id)".into()),
        None => args
            .tenant
            .ok_or_else(|| missing("tenant", "--tenant", object.is_some()))?,
    };
    let record_type = context_part(
        object.as_ref(),
        "record_type",
        args.record_type.as_deref(),
        "--record-type",
    )?;
    let record_id = context_part(
        object.as_ref(),
        "record_id",
        args.record_id.as_deref(),
        "--record-id",
    )?;
    let field = context_part(object.as_ref(), "field", args.field.as_deref(), "--field")?;
    let ctx =
        FieldContext::new(tenant, &record_type, &record_id, &field).map_err(|e| e.to_string())?;
    let new = keyring.reencrypt(&ctx, &bytes).map_err(|e| match e {
        Error::Decrypt => format!(
            "cannot decrypt the envelope under tenant {tenant}, {record_type}/{record_id}/{field}: \
             wrong context, or the value was modified"
        ),
        other => other.to_string(),
    })?;
    counts.envelopes += 1;
    if new == bytes {
        counts.unchanged += 1;
        return Ok(None);
    }
    counts.reencrypted += 1;
    let old_version = Envelope::decode(&bytes)
        .map(|e| e.key_id().version())
        .unwrap_or(0);
    *counts.from.entry(old_version).or_default() += 1;
    let new_text = envelope::to_text(&new);
    Ok(Some(match object {
        None => new_text,
        Some(mut object) => {
            // Replace the envelope in place when it appears once, so the
            // line keeps its key order and spacing; else re-serialise.
            let quoted = format!("\"{text}\"");
            if line.matches(&quoted).count() == 1 {
                line.replacen(&quoted, &format!("\"{new_text}\""), 1)
            } else {
                object.insert(args.value_key.clone(), Value::String(new_text));
                Value::Object(object).to_string()
            }
        }
    }))
}

fn missing(key: &str, flag: &str, json: bool) -> String {
    if json {
        format!("no \"{key}\" in the line and no {flag} given")
    } else {
        format!(
            "a bare cst1. line needs its context from --tenant, --record-type, --record-id and --field \
             ({flag} is missing), or use JSON lines"
        )
    }
}

/// A context part from the JSON object, else from its flag.
fn context_part(
    object: Option<&serde_json::Map<String, Value>>,
    key: &str,
    flag_value: Option<&str>,
    flag: &str,
) -> Result<String, String> {
    match object.and_then(|o| o.get(key)) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) if key == "record_id" => Ok(n.to_string()),
        Some(_) => Err(format!("\"{key}\" must be a string")),
        None => flag_value
            .map(str::to_owned)
            .ok_or_else(|| missing(key, flag, object.is_some())),
    }
}

fn parse_object(line: &str) -> Result<Option<serde_json::Map<String, Value>>, String> {
    if !line.trim_start().starts_with('{') {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(object)) => Ok(Some(object)),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// The envelope text of a line: `None` for a blank line or a JSON `null`.
fn envelope_text<'a>(line: &'a str, value_key: &str) -> Result<Option<&'a str>, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.starts_with('{') {
        let object = parse_object(trimmed)?.unwrap_or_default();
        return match object.get(value_key) {
            None => Err(format!("no \"{value_key}\" key holding the envelope")),
            Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                // Borrow the envelope from the line itself when it is there verbatim.
                match line.find(&format!("\"{s}\"")) {
                    Some(at) => Ok(Some(&line[at + 1..at + 1 + s.len()])),
                    None => Err(format!(
                        "\"{value_key}\" must be a cst1. envelope without JSON escapes"
                    )),
                }
            }
            Some(_) => Err(format!(
                "\"{value_key}\" must be a string (a cst1. envelope)"
            )),
        };
    }
    if trimmed.starts_with(envelope::TEXT_PREFIX) {
        Ok(Some(trimmed))
    } else {
        Err("neither a cst1. envelope nor a JSON object".into())
    }
}

/// The binary envelope of a `cst1.` text, checked to decode.
fn decode(text: &str) -> Result<Vec<u8>, String> {
    let bytes = envelope::from_text(text).map_err(|e| e.to_string())?;
    Envelope::decode(&bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn input_name(path: &Path) -> String {
    if is_dash(path) {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    }
}

fn open_input(path: &Path) -> Result<Box<dyn BufRead>, Failure> {
    if is_dash(path) {
        return Ok(Box::new(BufReader::new(io::stdin().lock())));
    }
    let file = File::open(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    Ok(Box::new(BufReader::new(file)))
}

/// Calls `f` with each line (1-based number, text without the newline),
/// advancing `progress` by the bytes read. `name` names the input in the
/// errors of lines that cannot be read, as `f`'s own errors do: `status`
/// and `retire` scan several files.
fn for_each_line(
    mut reader: Box<dyn BufRead>,
    name: &str,
    progress: &ProgressBar,
    mut f: impl FnMut(u64, &str) -> Result<(), String>,
) -> Result<(), Failure> {
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        let read = crate::read_line_capped(&mut reader, &mut line)
            .map_err(|e| Failure::Usage(format!("{name}: line {}: {e}", number + 1)))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        progress.inc(read as u64);
        let line = std::str::from_utf8(&line)
            .map_err(|_| Failure::Usage(format!("{name}: line {number}: not UTF-8")))?;
        let text = line.strip_suffix('\n').unwrap_or(line);
        let text = text.strip_suffix('\r').unwrap_or(text);
        f(number, text)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn envelope_text_is_borrowed_from_the_line() {
        let line = r#"{"note":"x","value":"cst1.AQE"}"#;
        assert_eq!(envelope_text(line, "value"), Ok(Some("cst1.AQE")));
        assert_eq!(envelope_text(r#"{"value":null}"#, "value"), Ok(None));
        assert_eq!(envelope_text("  ", "value"), Ok(None));
        assert_eq!(envelope_text(" cst1.AQE ", "value"), Ok(Some("cst1.AQE")));
        assert!(envelope_text(r#"{"v":"cst1.AQE"}"#, "value").is_err());
        assert!(envelope_text(r#"{"value":7}"#, "value").is_err());
    }

    proptest! {
        /// Whatever a line holds, parsing it gives a value or a message,
        /// never a panic.
        #[test]
        fn any_line_parses_or_is_refused(
            line in prop_oneof![
                any::<String>(),
                "cst1\\.[A-Za-z0-9_-]{0,80}",
                "\\{\"value\":\"cst1\\.[A-Za-z0-9_-]{0,60}\"(,\"tenant\":\".{0,40}\")?\\}",
            ]
        ) {
            if let Ok(Some(text)) = envelope_text(&line, "value") {
                let _ = decode(text);
            }
            let _ = parse_object(&line);
        }
    }
}
