//! Resolving the settings: flags, then `SESSIOND_*` environment variables,
//! then the configuration file, then the defaults.
//!
//! clap reads flags, the environment and defaults. The file's values become
//! the arguments' defaults before the command line is parsed, so clap parses
//! and validates every value the same way whichever source it came from, and
//! flags and the environment still win over it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches};

use super::{Cli, Command, Config, GlobalArgs, ServeArgs};

/// Variables with the prefix that are not settings and are let through:
/// the repository's scripts take the binary to run from `SESSIOND_BIN`, and
/// the server they start inherits it; `build.rs` sets `SESSIOND_GIT_COMMIT`
/// for the compiler, and cargo passes it on to the processes it runs
/// (`cargo run`, `cargo test`).
pub const NOT_SETTINGS: &[&str] = &["SESSIOND_BIN", "SESSIOND_GIT_COMMIT"];

/// Global options that are not settings.
const NOT_SETTING_IDS: &[&str] = &["config", "help", "version"];

#[derive(Debug)]
pub enum Error {
    /// A command line (or environment value) clap rejects, or `--help` and
    /// `--version`: print it with [`clap::Error::exit`].
    Usage(clap::Error),
    /// An unknown setting, or a configuration file that cannot be used.
    Config(anyhow::Error),
}

impl From<clap::Error> for Error {
    fn from(e: clap::Error) -> Error {
        Error::Usage(e)
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Error {
        Error::Config(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Usage(e) => write!(f, "{e}"),
            Error::Config(e) => write!(f, "{e:#}"),
        }
    }
}

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    Environment,
    File,
    Default,
    /// No value (a setting without a default).
    Unset,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Environment => "environment",
            Source::File => "file",
            Source::Default => "default",
            Source::Unset => "unset",
        }
    }
}

/// One setting as the code knows it.
#[derive(Clone, Debug)]
pub struct Setting {
    /// The file's key: the argument's id, e.g. `lockout_threshold`.
    pub key: String,
    /// e.g. `SESSIOND_LOCKOUT_THRESHOLD`.
    pub env: String,
    pub default: Option<String>,
    pub help: String,
    /// Secrets are never printed.
    pub secret: bool,
}

/// A setting's resolved value.
#[derive(Clone, Debug)]
pub struct Effective {
    pub setting: Setting,
    pub value: Option<String>,
    pub source: Source,
}

pub struct Loaded {
    pub command: Option<Command>,
    pub config: Config,
    /// Every setting, in [`settings`] order.
    pub effective: Vec<Effective>,
}

/// Every setting: the global ones and `serve`'s, in the order the example
/// file and the README list them.
pub fn settings() -> Vec<Setting> {
    let cmd = Cli::command();
    let global: Vec<Setting> = cmd
        .get_arguments()
        .filter(|a| !NOT_SETTING_IDS.contains(&a.get_id().as_str()))
        .map(setting)
        .collect();
    let serve: Vec<Setting> = serve_command(&cmd).get_arguments().map(setting).collect();
    // listen, database_url, the other server settings, then logging.
    let (database, logging): (Vec<_>, Vec<_>) =
        global.into_iter().partition(|s| s.key == "database_url");
    let mut serve = serve.into_iter();
    serve
        .next()
        .into_iter()
        .chain(database)
        .chain(serve)
        .chain(logging)
        .collect()
}

fn setting(arg: &Arg) -> Setting {
    Setting {
        key: arg.get_id().to_string(),
        env: arg
            .get_env()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
        default: arg
            .get_default_values()
            .first()
            .map(|v| v.to_string_lossy().into_owned()),
        help: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
        secret: arg.is_hide_env_values_set(),
    }
}

fn serve_command(cmd: &clap::Command) -> &clap::Command {
    cmd.find_subcommand("serve")
        .expect("the serve command exists")
}

/// Parses the process's command line, checks its `SESSIOND_*` variables and
/// reads the configuration file.
pub fn load() -> Result<Loaded, Error> {
    load_from(std::env::args_os())
}

pub fn load_from<I, T>(args: I) -> Result<Loaded, Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // A first pass finds --config (and answers --help and --version).
    let first = Cli::command().try_get_matches_from(&args)?;
    check_environment(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
    let file = match first.get_one::<PathBuf>("config") {
        Some(path) => read_file(path)?,
        None => BTreeMap::new(),
    };
    resolve(&args, &file)
}

/// The settings from the environment and the defaults only: no file, no
/// check of unknown variables. For tests.
pub fn without_file() -> Config {
    match resolve(&[OsString::from("sessiond")], &BTreeMap::new()) {
        Ok(loaded) => loaded.config,
        Err(e) => panic!("invalid settings in the environment: {e}"),
    }
}

fn resolve(args: &[OsString], file: &BTreeMap<String, String>) -> Result<Loaded, Error> {
    let cmd = with_file_defaults(Cli::command(), file)?;
    let matches = cmd.clone().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    // Without `serve` on the command line, its settings still come from the
    // environment, the file and the defaults.
    let serve_matches = match matches.subcommand() {
        Some(("serve", m)) => m.clone(),
        _ => serve_command(&cmd)
            .clone()
            .try_get_matches_from(["serve"])?,
    };
    let serve = ServeArgs::from_arg_matches(&serve_matches)?;
    let global = GlobalArgs::from_arg_matches(&matches)?;
    let effective = settings()
        .into_iter()
        .map(|setting| {
            let m = if serve_matches.try_contains_id(&setting.key).is_ok() {
                &serve_matches
            } else {
                &matches
            };
            effective(m, setting, file)
        })
        .collect();
    Ok(Loaded {
        command: cli.command,
        config: Config::new(global, serve),
        effective,
    })
}

fn effective(m: &ArgMatches, setting: Setting, file: &BTreeMap<String, String>) -> Effective {
    let value = m
        .try_get_raw(&setting.key)
        .ok()
        .flatten()
        .and_then(|mut v| v.next())
        .map(|v| v.to_string_lossy().into_owned());
    let source = match m.value_source(&setting.key) {
        Some(ValueSource::CommandLine) => Source::Flag,
        Some(ValueSource::EnvVariable) => Source::Environment,
        Some(ValueSource::DefaultValue) if file.contains_key(&setting.key) => Source::File,
        Some(_) => Source::Default,
        None => Source::Unset,
    };
    Effective {
        setting,
        value,
        source,
    }
}

/// Fails on a `SESSIOND_*` variable that is no setting, naming each and
/// suggesting the closest setting.
pub fn check_environment(names: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let mut known: Vec<String> = settings().into_iter().map(|s| s.env).collect();
    known.push("SESSIOND_CONFIG".to_owned());
    let mut problems = Vec::new();
    for name in names {
        if name.starts_with("SESSIOND_")
            && !known.contains(&name)
            && !NOT_SETTINGS.contains(&name.as_str())
        {
            problems.push(format!(
                "unknown environment variable {name}{}",
                closest(&name, &known)
                    .map(|c| format!("; did you mean {c}?"))
                    .unwrap_or_default()
            ));
        }
    }
    problems.sort();
    match problems.is_empty() {
        true => Ok(()),
        false => Err(anyhow!(problems.join("\n"))),
    }
}

/// The candidate closest to `name`, if one is close.
fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.as_str())
}

/// The file's settings as strings, as a flag would give them. Fails on a
/// file that is not TOML, an unknown key or a value that is not a scalar.
pub fn read_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    parse_file(&text).map_err(|e| anyhow!("configuration file {}: {e}", path.display()))
}

pub fn parse_file(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
    let keys: Vec<String> = settings().into_iter().map(|s| s.key).collect();
    let mut problems = Vec::new();
    let mut values = BTreeMap::new();
    for (key, value) in table {
        if !keys.contains(&key) {
            problems.push(format!(
                "unknown setting `{key}`{}",
                closest(&key, &keys)
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default()
            ));
            continue;
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                problems.push(format!(
                    "`{key}` must be a string, a number or a boolean, not {}",
                    other.type_str()
                ));
                continue;
            }
        };
        values.insert(key, value);
    }
    if !problems.is_empty() {
        return Err(anyhow!(problems.join("; ")));
    }
    let cmd = Cli::command();
    for (key, value) in &values {
        let arg = cmd
            .get_arguments()
            .chain(serve_command(&cmd).get_arguments())
            .find(|a| a.get_id() == key)
            .expect("a known setting");
        check_value(arg, value).map_err(|e| anyhow!("`{key}` = {value:?}: {e}"))?;
    }
    Ok(values)
}

/// Runs the argument's own parser over a value, so a bad file value is
/// reported here, naming its key, rather than when clap applies defaults.
fn check_value(arg: &Arg, value: &str) -> Result<(), String> {
    let long = arg.get_long().unwrap_or(arg.get_id().as_str()).to_owned();
    let probe = arg
        .clone()
        .env(None::<&'static str>)
        .default_value(None::<&'static str>)
        .global(false)
        .required(false);
    clap::Command::new("sessiond")
        .no_binary_name(true)
        .disable_help_flag(true)
        .arg(probe)
        .try_get_matches_from([format!("--{long}={value}")])
        .map(|_| ())
        .map_err(|e| {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            line.strip_prefix("error: ").unwrap_or(line).to_owned()
        })
}

/// The command with the file's values as the settings' defaults.
fn with_file_defaults(
    mut cmd: clap::Command,
    file: &BTreeMap<String, String>,
) -> anyhow::Result<clap::Command> {
    for (key, value) in file {
        // clap keeps defaults as `&'static str` (without its `string`
        // feature); the few bytes live as long as the process.
        let value: &'static str = Box::leak(value.clone().into_boxed_str());
        if cmd.get_arguments().any(|a| a.get_id() == key) {
            cmd = cmd.mut_arg(key, |a| a.default_value(value));
        } else if serve_command(&cmd)
            .get_arguments()
            .any(|a| a.get_id() == key)
        {
            cmd = cmd.mut_subcommand("serve", |s| s.mut_arg(key, |a| a.default_value(value)));
        } else {
            anyhow::bail!("unknown setting `{key}`");
        }
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_the_variable_names_in_lower_case() {
        for s in settings() {
            assert_eq!(
                format!("SESSIOND_{}", s.key.to_uppercase()),
                s.env,
                "{}",
                s.key
            );
        }
    }

    #[test]
    fn unknown_keys_are_named_with_a_suggestion() {
        let err = parse_file("lockout_treshold = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown setting `lockout_treshold`"), "{err}");
        assert!(err.contains("did you mean `lockout_threshold`?"), "{err}");
        let err = parse_file("[server]\nlisten = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown setting `server`"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = parse_file("lockout_threshold = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`lockout_threshold`"), "{err}");
        let err = parse_file("session_limit_policy = \"sometimes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`session_limit_policy`"), "{err}");
        assert!(parse_file("session_limit_policy = \"evict-oldest\"\nlockout_threshold = 3\nswagger_ui_persist_authorization = false\n").is_ok());
    }

    #[test]
    fn unknown_variables_are_named_with_a_suggestion() {
        let err = check_environment(["SESSIOND_LISTEN".into(), "SESSIOND_LISSEN".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unknown environment variable SESSIOND_LISSEN; did you mean SESSIOND_LISTEN?"
        );
        assert!(check_environment(["SESSIOND_BIN".into(), "PATH".into()]).is_ok());
    }

    #[test]
    fn the_file_is_below_flags_and_above_defaults() {
        let file = parse_file("lockout_threshold = 3\nid_store_name = \"FromFile\"\n").unwrap();
        let loaded = resolve(
            &[
                "sessiond".into(),
                "serve".into(),
                "--lockout-threshold".into(),
                "4".into(),
            ],
            &file,
        )
        .unwrap();
        assert_eq!(loaded.config.lockout_threshold, 4);
        assert_eq!(loaded.config.id_store_name, "FromFile");
        assert_eq!(loaded.config.search_max_limit, 1000);
        let loaded = resolve(&["sessiond".into(), "migrate".into()], &file).unwrap();
        assert_eq!(loaded.config.lockout_threshold, 3);
        let source = |key: &str| {
            loaded
                .effective
                .iter()
                .find(|e| e.setting.key == key)
                .unwrap()
                .source
        };
        assert_eq!(source("lockout_threshold"), Source::File);
        assert_eq!(source("search_max_limit"), Source::Default);
    }
}
