//! The commands other than `serve`. They work directly on the database (the
//! server's database URL), so they can run next to a running server.

mod output;

use std::io::Read;
use std::sync::Arc;

use anyhow::{Context, bail};
use sea_orm::ConnectionTrait;

use crate::clock::{Clock, SystemClock};
use crate::config::load::Effective;
use crate::config::{Config, KeyCommand, SessionCommand, UserCommand};
use crate::domain::session::Password;
use crate::domain::{LoginName, Permission, SessionSearch, User};
use crate::service::{Services, admin_cli_principal};
use crate::startup;
use crate::store::{Backend, Store};

use output::{key_json, key_table, print, session_json, session_table, user_json, user_table};

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    startup::open_store(config).await?;
    eprintln!("migrations applied");
    Ok(())
}

pub fn write_openapi(config: &Config, out: &std::path::Path) -> anyhow::Result<()> {
    let services = startup::offline_services(config)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for doc in crate::api::contract_documents(&services) {
        for (ext, body) in [("yaml", &doc.yaml), ("json", &doc.json)] {
            let path = out.join(format!("{}.{ext}", doc.name));
            std::fs::write(&path, body)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

async fn open(config: &Config) -> anyhow::Result<Services> {
    let store = startup::open_store(config).await?;
    startup::services(config, store, Arc::new(SystemClock)).await
}

/// A user by id, or else by login name (case-insensitive).
async fn find_user(store: &Store, id_or_login: &str) -> anyhow::Result<User> {
    if let Some(user) = store.find_user(id_or_login).await? {
        return Ok(user);
    }
    store
        .find_user_by_login_name(id_or_login)
        .await?
        .with_context(|| format!("no user with the id or login name {id_or_login:?}"))
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            login_name,
            display_name,
            password_stdin: _,
        } => add_user(config, login_name, display_name).await,
        UserCommand::List { limit, output } => {
            let services = open(config).await?;
            let (total, users) = services
                .admin
                .list_users(&admin_cli_principal(), 0, limit)
                .await?;
            if total > users.len() as u64 {
                eprintln!("{} of {total} users (see --limit)", users.len());
            }
            print(output, users.iter().map(user_json).collect(), || {
                user_table(&users)
            })
        }
        UserCommand::Lock { user, output } => {
            let services = open(config).await?;
            let user = find_user(&services.store, &user).await?;
            let user = services
                .admin
                .lock_user(&admin_cli_principal(), &user.id)
                .await?;
            print(output, user_json(&user), || {
                user_table(std::slice::from_ref(&user))
            })
        }
        UserCommand::Unlock { user, output } => {
            let services = open(config).await?;
            let user = find_user(&services.store, &user).await?;
            let user = services
                .admin
                .unlock_user(&admin_cli_principal(), &user.id)
                .await?;
            print(output, user_json(&user), || {
                user_table(std::slice::from_ref(&user))
            })
        }
        UserCommand::Delete { user, output } => {
            let services = open(config).await?;
            let user = find_user(&services.store, &user).await?;
            services
                .admin
                .delete_user(&admin_cli_principal(), &user.id)
                .await?;
            print(output, user_json(&user), || {
                user_table(std::slice::from_ref(&user))
            })
        }
    }
}

async fn add_user(
    config: &Config,
    login_name: String,
    display_name: Option<String>,
) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        (1..=200).contains(&password.chars().count()),
        "the password must be 1 to 200 characters"
    );
    let login_name = LoginName::parse(&login_name)
        .context("the login name must be 1 to 200 printable characters")?;
    let services = open(config).await?;
    let user = services
        .admin
        .create_user(
            &admin_cli_principal(),
            login_name,
            display_name,
            &Password::new(password),
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the user: {e}"))?;
    println!("{}", user.id);
    Ok(())
}

pub async fn key(config: &Config, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { name, permissions } => {
            let permissions = permissions
                .iter()
                .map(|p| {
                    Permission::parse(p.trim()).with_context(|| format!("unknown permission {p:?}"))
                })
                .collect::<anyhow::Result<_>>()?;
            let services = open(config).await?;
            let (key, secret) = services
                .admin
                .create_key(&admin_cli_principal(), name, permissions)
                .await
                .map_err(|e| anyhow::anyhow!("cannot create the key: {e}"))?;
            eprintln!("key id: {}", key.id);
            println!("{secret}");
            Ok(())
        }
        KeyCommand::List { output } => {
            let services = open(config).await?;
            let keys = services.admin.list_keys(&admin_cli_principal()).await?;
            print(output, keys.iter().map(key_json).collect(), || {
                key_table(&keys)
            })
        }
        KeyCommand::Revoke { id, output } => {
            let services = open(config).await?;
            let Some(stored) = services.store.find_key(&id).await? else {
                bail!("no API key with the id {id:?}");
            };
            if stored.key.revoked_at.is_some() {
                bail!("the API key {id:?} is already revoked");
            }
            services
                .admin
                .revoke_key(&admin_cli_principal(), &id)
                .await?;
            let key = services
                .store
                .find_key(&id)
                .await?
                .map(|s| s.key)
                .unwrap_or(stored.key);
            print(output, key_json(&key), || {
                key_table(std::slice::from_ref(&key))
            })
        }
    }
}

pub async fn session(config: &Config, command: SessionCommand) -> anyhow::Result<()> {
    let services = open(config).await?;
    let store = &services.store;
    let now = SystemClock.now();
    match command {
        SessionCommand::List {
            user,
            limit,
            output,
        } => {
            let user_id = match user {
                Some(user) => Some(find_user(store, &user).await?.id),
                None => None,
            };
            let search = SessionSearch {
                user_id,
                ..SessionSearch::default()
            };
            let (total, sessions) = store.search_sessions(&search, limit).await?;
            if total > sessions.len() as u64 {
                eprintln!("{} of {total} sessions (see --limit)", sessions.len());
            }
            print(
                output,
                sessions.iter().map(|s| session_json(s, now)).collect(),
                || session_table(&sessions, now),
            )
        }
        SessionCommand::Revoke { id, user, output } => {
            let ids = match (id, user) {
                (Some(id), _) => {
                    let Some(session) = store.find_session(&id).await? else {
                        bail!("no session with the id {id:?}");
                    };
                    if session.is_terminated() {
                        bail!("the session {id:?} is already terminated");
                    }
                    vec![id]
                }
                (None, Some(user)) => {
                    let user = find_user(store, &user).await?;
                    let search = SessionSearch {
                        user_id: Some(user.id),
                        ..SessionSearch::default()
                    };
                    store.matching_session_ids(&search).await?
                }
                (None, None) => bail!("name a session id or --user"),
            };
            store.terminate_sessions(&ids, now).await?;
            let mut revoked = Vec::with_capacity(ids.len());
            for id in &ids {
                if let Some(session) = store.find_session(id).await? {
                    revoked.push(session);
                }
            }
            print(
                output,
                revoked.iter().map(|s| session_json(s, now)).collect(),
                || session_table(&revoked, now),
            )
        }
    }
}

/// `VACUUM INTO`: a consistent copy, taken in one read transaction, so the
/// server keeps serving (and writing) meanwhile.
pub async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    if Backend::of_url(&config.database_url)? == Backend::Postgres {
        bail!(
            "`sessiond backup` works on SQLite only; back up PostgreSQL with pg_dump, e.g. `pg_dump --format=custom --file=sessiond.dump \"$SESSIOND_DATABASE_URL\"`"
        );
    }
    if file.exists() {
        bail!(
            "{} already exists; backup writes only new files",
            file.display()
        );
    }
    let target = file
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", file.display()))?;
    let store = startup::open_store(config).await?;
    store
        .connection()
        .execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .await
        .with_context(|| format!("cannot write the backup to {}", file.display()))?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "backed up the {} to {} ({bytes} bytes)",
        crate::store::describe(&config.database_url),
        file.display()
    );
    Ok(())
}

/// The effective settings as a TOML configuration file, each with where
/// its value came from.
pub fn show_config(effective: &[Effective]) {
    for e in effective {
        let comment = format!("# {}", e.source.as_str());
        match (&e.value, e.setting.secret) {
            (Some(_), true) => println!("# {} = (set, not shown)  {comment}", e.setting.key),
            (Some(value), false) => {
                println!("{} = {}  {comment}", e.setting.key, toml_value(value))
            }
            (None, _) => println!("# {} =  {comment}", e.setting.key),
        }
    }
}

/// A value as TOML: numbers and booleans bare, anything else quoted.
pub fn toml_value(raw: &str) -> String {
    if raw.parse::<i64>().is_ok() || raw == "true" || raw == "false" {
        raw.to_owned()
    } else {
        toml::Value::String(raw.to_owned()).to_string()
    }
}

pub fn completions(shell: clap_complete::Shell) {
    use clap::CommandFactory;
    let mut cmd = crate::config::Cli::command();
    clap_complete::generate(shell, &mut cmd, "sessiond", &mut std::io::stdout());
}
