//! The command line, and the data directory every server process of one
//! deployment shares (root key, token key, checkpoint key, retention policy).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use custodia_audit::checkpoint::Signer;
use custodia_core::{Region, TenantId};
use custodia_crypt::SecretKey;
use custodia_example_helpdesk::{CHECKPOINT_ORIGIN, DEFAULT_POLICY};

use crate::Error;

/// The schema the server keeps its tables in, unless `--schema` says
/// otherwise (not the embedded example's `custodia_helpdesk`, which
/// `helpdesk --database` recreates on every run).
pub const DEFAULT_SCHEMA: &str = "custodia_helpdesk_server";

/// The tenants served unless `--tenant` says otherwise: the embedded
/// example's two subscribers, by billing account, and their home regions.
pub const DEFAULT_TENANTS: [(&str, Region); 2] =
    [("ACME-0042", Region::AU), ("GLOBEX-7", Region::UK)];

/// The home region of a tenant served without one (`--tenant KEY`).
pub const DEFAULT_REGION: Region = Region::EU;

/// The key system tenant keys (the token's `org` claim) are mapped under:
/// `TenantId::from_external_key("billing.account", key)`, as in the example.
pub const TENANT_SYSTEM: &str = "billing.account";

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The usage text (`--help`).
pub const USAGE: &str = "\
usage: helpdesk-server [OPTIONS]
       helpdesk-server --print-token TENANT ROLE[,ROLE...] [--subject NAME] [--ttl SECS] [--data DIR]

The embedded helpdesk example as an HTTP/JSON API on PostgreSQL. Every
server process started with the same --database, --schema and --data is one
deployment: they share the tickets, keys and audit log.

  --listen ADDR          where to listen (default 127.0.0.1:8080; port 0 picks a free one)
  --database URL         the application role's connection string (default: $CUSTODIA_PG_APP_URL)
  --database-owner URL   the tables' owner, which creates the schema if missing and grants
                         the application role only what it needs (default: $CUSTODIA_PG_ADMIN_URL;
                         without one the schema must exist)
  --schema NAME          the PostgreSQL schema (default custodia_helpdesk_server)
  --reset                drop and recreate the schema first (needs the owner)
  --no-seed              do not add the example's six tickets to a newly created schema
  --data DIR             root key, token key, checkpoint key and retention policy, created when
                         missing (default: custodia-helpdesk-server in the system's temporary directory)
  --tenant KEY[=REGION]  serve this billing account, its data homed in REGION (AU, CA, UK, US, EU,
                         NZ; default EU); repeatable; default ACME-0042=AU and GLOBEX-7=UK
  --sweep-every SECS     run the retention sweep over every served tenant this often (default 3600; 0: never)
  --staleness-ms MS      how long cached keys are trusted before the key store is asked again,
                         bounding how late a shred elsewhere is seen here (default 1000)
  --no-audit-reads       do not audit reads of a ticket's personal data (audited by default)
  --buffer-reads         queue audited reads' events for the next background drain
                         (about 10 ms) instead of writing them in the read's
                         transaction: faster, but a crash loses that moment's reads
  --pool N               database connections for requests (default 16)
  --trace                print Custodia's spans (operation, counts, timings; never a value) to stderr
  --print-token TENANT ROLES
                         print a bearer token for TENANT (a billing account, e.g. ACME-0042) with
                         ROLES (comma-separated: agent, supervisor, dpo, auditor, operator) and exit;
                         --subject NAME (default: the first role) and --ttl SECS (default 3600)
  -h, --help             this text";

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The application role's connection string.
    pub database: Option<String>,
    /// The tables' owner's connection string.
    pub owner: Option<String>,
    /// The schema.
    pub schema: String,
    /// Drop and recreate the schema first.
    pub reset: bool,
    /// Seed a newly created schema with the example's tickets.
    pub seed: bool,
    /// The data directory.
    pub data: PathBuf,
    /// The billing accounts served.
    pub tenants: Vec<String>,
    /// Where each served tenant's data lives (billing account → region;
    /// [`DEFAULT_REGION`] for one not listed).
    pub regions: BTreeMap<String, Region>,
    /// Retention sweep period (`None`: never).
    pub sweep_every: Option<Duration>,
    /// Key cache staleness bound.
    pub staleness: Duration,
    /// Audit reads of personal data.
    pub audit_reads: bool,
    /// Queue audited reads' events instead of staging them in the read's
    /// transaction (`CustodiaLayer::buffer_reads`).
    pub buffer_reads: bool,
    /// Request pool size.
    pub pool: u32,
    /// Print spans.
    pub trace: bool,
    /// `--print-token`: mint a token instead of serving.
    pub print_token: Option<TokenRequest>,
}

/// `--print-token TENANT ROLES [--subject NAME] [--ttl SECS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The billing account.
    pub tenant: String,
    /// Role names.
    pub roles: Vec<String>,
    /// The token's `sub`.
    pub subject: Option<String>,
    /// Lifetime.
    pub ttl: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: None,
            owner: None,
            schema: DEFAULT_SCHEMA.into(),
            reset: false,
            seed: true,
            data: std::env::temp_dir().join("custodia-helpdesk-server"),
            tenants: DEFAULT_TENANTS
                .iter()
                .map(|(t, _)| (*t).to_owned())
                .collect(),
            regions: DEFAULT_TENANTS
                .iter()
                .map(|(t, r)| ((*t).to_owned(), *r))
                .collect(),
            sweep_every: Some(Duration::from_secs(3600)),
            staleness: Duration::from_millis(1000),
            audit_reads: true,
            buffer_reads: false,
            pool: 16,
            trace: false,
            print_token: None,
        }
    }
}

/// Either serve with these options, or print the usage.
#[derive(Debug)]
pub enum Command {
    /// Run (serve, or print a token).
    Run(Box<Options>),
    /// `--help`.
    Help,
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} needs a number, not {value:?}"))
}

/// Parses the arguments (without the program name); the database URLs
/// default to `CUSTODIA_PG_APP_URL` and `CUSTODIA_PG_ADMIN_URL`.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    parse_args_with_env(args, |name| std::env::var(name).ok())
}

/// [`parse_args`] with the environment given as a function.
pub fn parse_args_with_env(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut o = Options::default();
    let mut tenants: Vec<String> = Vec::new();
    let mut regions: BTreeMap<String, Region> = BTreeMap::new();
    let mut token: Option<(String, String)> = None;
    let (mut subject, mut ttl) = (None, Duration::from_secs(3600));
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--reset" => o.reset = true,
            "--no-seed" => o.seed = false,
            "--no-audit-reads" => o.audit_reads = false,
            "--buffer-reads" => o.buffer_reads = true,
            "--trace" => o.trace = true,
            _ => {
                let mut value = || {
                    inline
                        .clone()
                        .or_else(|| args.next())
                        .ok_or_else(|| format!("{flag} needs a value"))
                };
                match flag.as_str() {
                    "--listen" => {
                        let v = value()?;
                        o.listen = v
                            .parse()
                            .map_err(|_| format!("--listen needs ADDR:PORT, not {v:?}"))?;
                    }
                    "--database" => o.database = Some(value()?),
                    "--database-owner" => o.owner = Some(value()?),
                    "--schema" => o.schema = value()?,
                    "--data" => o.data = PathBuf::from(value()?),
                    "--tenant" => {
                        let v = value()?;
                        let (key, region) = match v.split_once('=') {
                            Some((key, region)) => (
                                key.to_owned(),
                                region.parse().map_err(|_| {
                                    format!("--tenant {v:?}: {region:?} is not a region (AU, CA, UK, US, EU, NZ)")
                                })?,
                            ),
                            None => (v, DEFAULT_REGION),
                        };
                        regions.insert(key.clone(), region);
                        tenants.push(key);
                    }
                    "--sweep-every" => {
                        let secs: u64 = number(&flag, &value()?)?;
                        o.sweep_every = (secs > 0).then(|| Duration::from_secs(secs));
                    }
                    "--staleness-ms" => {
                        o.staleness = Duration::from_millis(number(&flag, &value()?)?);
                    }
                    "--pool" => {
                        o.pool = number(&flag, &value()?)?;
                        if o.pool == 0 {
                            return Err("--pool needs at least 1".into());
                        }
                    }
                    "--print-token" => {
                        let tenant = value()?;
                        let roles = args
                            .next()
                            .ok_or("--print-token needs TENANT and ROLES (e.g. ACME-0042 agent)")?;
                        token = Some((tenant, roles));
                    }
                    "--subject" => subject = Some(value()?),
                    "--ttl" => ttl = Duration::from_secs(number(&flag, &value()?)?),
                    other => return Err(format!("unknown argument {other:?}")),
                }
            }
        }
    }
    if !tenants.is_empty() {
        o.tenants = tenants;
        o.regions = regions;
    }
    if o.tenants.iter().any(String::is_empty) {
        return Err("--tenant needs a non-empty billing account".into());
    }
    if let Some((tenant, roles)) = token {
        let roles: Vec<String> = roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        if tenant.is_empty() || roles.is_empty() {
            return Err("--print-token needs a tenant and at least one role".into());
        }
        o.print_token = Some(TokenRequest {
            tenant,
            roles,
            subject,
            ttl,
        });
    } else if subject.is_some() {
        return Err("--subject goes with --print-token".into());
    }
    o.database = o.database.or_else(|| env("CUSTODIA_PG_APP_URL"));
    o.owner = o.owner.or_else(|| env("CUSTODIA_PG_ADMIN_URL"));
    if o.reset && o.owner.is_none() {
        return Err("--reset needs the owner's connection (--database-owner)".into());
    }
    Ok(Command::Run(Box::new(o)))
}

impl Options {
    /// The served tenants: (billing account, tenant id).
    pub fn tenant_ids(&self) -> Vec<(String, TenantId)> {
        self.tenants
            .iter()
            .map(|key| (key.clone(), tenant_id(key)))
            .collect()
    }

    /// The served tenants' home regions.
    pub fn home_regions(&self) -> Vec<(TenantId, Region)> {
        self.tenants
            .iter()
            .map(|key| {
                let region = self.regions.get(key).copied().unwrap_or(DEFAULT_REGION);
                (tenant_id(key), region)
            })
            .collect()
    }
}

/// The tenant of billing account `key`.
pub fn tenant_id(key: &str) -> TenantId {
    TenantId::from_external_key(TENANT_SYSTEM, key)
}

/// The files of the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    dir: PathBuf,
}

/// The keys and policy read from a data directory.
pub struct Secrets {
    /// Wraps the key store's keys.
    pub root: SecretKey,
    /// The Ed25519 seed tokens are signed with.
    pub token_seed: [u8; 32],
    /// Signs checkpoints of the audit log.
    pub signer: Signer,
    /// The retention policy text, and its path (for messages).
    pub policy: (String, PathBuf),
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").finish_non_exhaustive()
    }
}

impl DataDir {
    /// The directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `root.key`: the key store's root key (base64).
    pub fn root_key(&self) -> PathBuf {
        self.dir.join("root.key")
    }

    /// `token.key`: the 32-byte Ed25519 seed tokens are signed with (hex).
    pub fn token_key(&self) -> PathBuf {
        self.dir.join("token.key")
    }

    /// `checkpoint.key`: the checkpoint signer.
    pub fn checkpoint_key(&self) -> PathBuf {
        self.dir.join("checkpoint.key")
    }

    /// `checkpoint.pub`: its verifier key.
    pub fn checkpoint_verifier(&self) -> PathBuf {
        self.dir.join("checkpoint.pub")
    }

    /// `retention.toml`.
    pub fn policy(&self) -> PathBuf {
        self.dir.join("retention.toml")
    }

    /// Reads the keys and policy, creating whichever is missing (another
    /// process creating the same file at the same time wins; both then read
    /// its copy).
    pub fn open_or_create(&self) -> Result<Secrets, Error> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let root = self.root_key();
        create_once(&root, || {
            Ok(SecretKey::generate()?.to_base64().as_bytes().to_vec())
        })?;
        let token = self.token_key();
        create_once(&token, || {
            let mut seed = [0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
                .map_err(|_| Error::Config("the system's random source failed".into()))?;
            Ok(hex(&seed).into_bytes())
        })?;
        let checkpoint = self.checkpoint_key();
        create_once(&checkpoint, || {
            Ok(Signer::generate(CHECKPOINT_ORIGIN)?
                .to_key_string()
                .as_bytes()
                .to_vec())
        })?;
        let signer = Signer::from_key_string(custodia_crypt::read_key_file(&checkpoint)?.trim())?;
        let verifier = self.checkpoint_verifier();
        std::fs::write(&verifier, format!("{}\n", signer.verifier())).map_err(io(&verifier))?;
        let policy = self.policy();
        if !policy.exists() {
            std::fs::write(&policy, DEFAULT_POLICY).map_err(io(&policy))?;
        }
        Ok(Secrets {
            root: SecretKey::from_file(&root)?,
            token_seed: token_seed(custodia_crypt::read_key_file(&token)?.trim(), &token)?,
            signer,
            policy: (read(&policy)?, policy),
        })
    }

    /// The token seed alone (for `--print-token`), created if missing.
    pub fn token_seed(&self) -> Result<[u8; 32], Error> {
        Ok(self.open_or_create()?.token_seed)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(io(path))
}

/// Writes `path` (mode 0600) with `make()`'s bytes unless it exists.
fn create_once(path: &Path, make: impl FnOnce() -> Result<Vec<u8>, Error>) -> Result<(), Error> {
    use std::io::Write as _;
    if path.exists() {
        return Ok(());
    }
    let bytes = make()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // Written to a temporary name and linked into place, so a reader never
    // sees half a key and of two racing writers exactly one wins.
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = options
        .open(&temp)
        .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io(path)(e));
    }
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(path)(e)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_seed(text: &str, path: &Path) -> Result<[u8; 32], Error> {
    let bad = || Error::Config(format!("{}: not 64 hex digits", path.display()));
    if text.len() != 64 || !text.is_ascii() {
        return Err(bad());
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args_with_env(args.iter().map(|a| (*a).to_owned()), |name| {
            (name == "CUSTODIA_PG_APP_URL").then(|| "postgres://app@db/x".to_owned())
        })
    }

    fn options(args: &[&str]) -> Options {
        match parse(args).unwrap() {
            Command::Run(o) => *o,
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults_come_from_the_environment() {
        let o = options(&[]);
        assert_eq!(o.database.as_deref(), Some("postgres://app@db/x"));
        assert_eq!(o.owner, None);
        assert_eq!(o.tenants, ["ACME-0042", "GLOBEX-7"]);
        assert_eq!(
            o.home_regions(),
            [
                (tenant_id("ACME-0042"), Region::AU),
                (tenant_id("GLOBEX-7"), Region::UK)
            ]
        );
        assert!(o.seed && o.audit_reads && !o.buffer_reads);
    }

    #[test]
    fn flags_and_tokens_parse() {
        let o = options(&[
            "--listen=127.0.0.1:0",
            "--tenant",
            "A",
            "--tenant=B=NZ",
            "--sweep-every",
            "0",
            "--print-token",
            "A",
            "agent, dpo",
            "--subject",
            "sam",
            "--buffer-reads",
        ]);
        assert_eq!(o.listen.port(), 0);
        assert!(o.audit_reads && o.buffer_reads);
        assert_eq!(o.tenants, ["A", "B"]);
        assert_eq!(
            o.home_regions(),
            [(tenant_id("A"), Region::EU), (tenant_id("B"), Region::NZ)]
        );
        assert_eq!(o.sweep_every, None);
        let token = o.print_token.unwrap();
        assert_eq!(token.roles, ["agent", "dpo"]);
        assert_eq!(token.subject.as_deref(), Some("sam"));
    }

    #[test]
    fn mistakes_are_named() {
        for (args, says) in [
            (&["--pool", "x"][..], "--pool needs a number"),
            (&["--bogus"], "unknown argument"),
            (&["--listen"], "--listen needs a value"),
            (&["--print-token", "A"], "needs TENANT and ROLES"),
            (&["--reset"], "--reset needs the owner"),
            (&["--subject", "x"], "goes with --print-token"),
            (&["--tenant", "A=MARS"], "is not a region"),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn a_data_dir_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("d"));
        let first = data.open_or_create().unwrap();
        let second = data.open_or_create().unwrap();
        assert_eq!(first.token_seed, second.token_seed);
        assert_eq!(
            first.signer.verifier().to_string(),
            second.signer.verifier().to_string()
        );
        assert!(first.policy.0.contains("closed-tickets"));
    }
}
