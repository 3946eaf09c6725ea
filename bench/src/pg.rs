//! Throw-away PostgreSQL databases for one run, so run.sh needs no psql.

use anyhow::{Context, bail};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || name.len() > 63
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        bail!("database name {name:?} must be 1-63 characters of a-z, 0-9 and _");
    }
    Ok(())
}

/// `admin_url` with its database replaced by `name`, query kept.
pub fn url_for(admin_url: &str, name: &str) -> anyhow::Result<String> {
    check_name(name)?;
    let (scheme, rest) = admin_url
        .split_once("://")
        .with_context(|| format!("not a URL: {admin_url}"))?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let mut url = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    Ok(url)
}

async fn admin(admin_url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| "cannot connect to PostgreSQL with the admin URL".to_owned())
}

/// Creates database `name` and returns its URL.
pub async fn create(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let url = url_for(admin_url, name)?;
    let db = admin(admin_url).await?;
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .with_context(|| format!("cannot create database {name}"))?;
    db.close().await.ok();
    Ok(url)
}

/// Drops database `name`, ending its connections first.
pub async fn drop(admin_url: &str, name: &str) -> anyhow::Result<()> {
    check_name(name)?;
    let db = admin(admin_url).await?;
    db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .with_context(|| format!("cannot drop database {name}"))?;
    db.close().await.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_and_keeps_the_query() {
        assert_eq!(
            url_for("postgres://postgres@127.0.0.1:5432/test", "bench_x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/bench_x"
        );
        assert_eq!(
            url_for("postgres://u:p@h/db?sslmode=disable", "b1").unwrap(),
            "postgres://u:p@h/b1?sslmode=disable"
        );
        assert_eq!(url_for("postgres://h", "b").unwrap(), "postgres://h/b");
        assert!(url_for("postgres://h/db", "Bad-Name").is_err());
    }
}
