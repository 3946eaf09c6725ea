//! The non-serving subcommands.

use std::io::Read;
use std::sync::Arc;

use anyhow::Context;

use crate::clock::SystemClock;
use crate::config::{Config, KeyCommand, UserCommand};
use crate::domain::session::Password;
use crate::domain::{LoginName, Permission};
use crate::service::admin_cli_principal;
use crate::startup;

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

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        login_name,
        display_name,
        password_stdin: _,
    } = command;
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
    let store = startup::open_store(config).await?;
    let services = startup::services(config, store, Arc::new(SystemClock)).await?;
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
    let KeyCommand::Create { name, permissions } = command;
    let permissions = permissions
        .iter()
        .map(|p| Permission::parse(p.trim()).with_context(|| format!("unknown permission {p:?}")))
        .collect::<anyhow::Result<_>>()?;
    let store = startup::open_store(config).await?;
    let services = startup::services(config, store, Arc::new(SystemClock)).await?;
    let (key, secret) = services
        .admin
        .create_key(&admin_cli_principal(), name, permissions)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the key: {e}"))?;
    eprintln!("key id: {}", key.id);
    println!("{secret}");
    Ok(())
}
