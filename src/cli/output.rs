//! What the commands print: a table for people, or with `--json` JSON in
//! the admin API's field names (camelCase, RFC 3339 times).

use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::config::Output;
use crate::domain::{ApiKey, Session, Timestamp, User};

/// Prints `json` with `--json`, else the table.
pub fn print(output: Output, json: Value, table: impl FnOnce() -> Table) -> anyhow::Result<()> {
    if output.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", table().render());
    }
    Ok(())
}

/// Columns of left-aligned text, separated by two spaces.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Table {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                if i + 1 == cells.len() {
                    out.push_str(cell);
                } else {
                    out.push_str(&format!("{cell:<w$}  "));
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = line(self.header.clone());
        for row in &self.rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        out
    }
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn short(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn user_json(u: &User) -> Value {
    json!({
        "userId": u.id,
        "loginName": u.login_name,
        "displayName": u.display_name,
        "state": u.state.as_str(),
        "failedAttempts": u.failed_attempts,
        "idStoreName": u.id_store_name,
        "createdAt": rfc3339(u.created_at),
        "changedAt": rfc3339(u.changed_at),
    })
}

pub fn user_table(users: &[User]) -> Table {
    let mut t = Table::new(vec![
        "ID",
        "LOGIN NAME",
        "DISPLAY NAME",
        "STATE",
        "FAILED",
        "CREATED",
    ]);
    for u in users {
        t.row(vec![
            u.id.clone(),
            u.login_name.clone(),
            u.display_name.clone(),
            u.state.as_str().to_owned(),
            u.failed_attempts.to_string(),
            short(u.created_at),
        ]);
    }
    t
}

pub fn key_json(k: &ApiKey) -> Value {
    json!({
        "keyId": k.id,
        "name": k.name,
        "permissions": k.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "createdAt": rfc3339(k.created_at),
        "revokedAt": k.revoked_at.map(rfc3339),
    })
}

pub fn key_table(keys: &[ApiKey]) -> Table {
    let mut t = Table::new(vec!["ID", "NAME", "PERMISSIONS", "CREATED", "REVOKED"]);
    for k in keys {
        t.row(vec![
            k.id.clone(),
            k.name.clone(),
            k.permissions
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(","),
            short(k.created_at),
            k.revoked_at.map(short).unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    t
}

/// `terminated`, `expired`, `idle` or `active`.
pub fn session_state(s: &Session, now: Timestamp) -> &'static str {
    if s.is_terminated() {
        "terminated"
    } else if s.is_expired(now) {
        "expired"
    } else if s.is_idle(now) {
        "idle"
    } else {
        "active"
    }
}

pub fn session_json(s: &Session, now: Timestamp) -> Value {
    json!({
        "sessionId": s.id,
        "state": session_state(s, now),
        "userId": s.user.as_ref().map(|u| u.user_id.clone()),
        "loginName": s.user.as_ref().map(|u| u.login_name.clone()),
        "creatorKeyId": s.creator_key_id,
        "createdAt": rfc3339(s.created_at),
        "changedAt": rfc3339(s.changed_at),
        "expiresAt": s.expires_at.map(rfc3339),
        "lastAccessAt": rfc3339(s.last_access_at),
        "terminatedAt": s.terminated_at.map(rfc3339),
        "clientIp": s.client.ip,
        "idStoreName": s.id_store_name,
    })
}

pub fn session_table(sessions: &[Session], now: Timestamp) -> Table {
    let mut t = Table::new(vec![
        "ID",
        "STATE",
        "LOGIN NAME",
        "CREATED",
        "EXPIRES",
        "LAST ACCESS",
    ]);
    for s in sessions {
        t.row(vec![
            s.id.clone(),
            session_state(s, now).to_owned(),
            s.user
                .as_ref()
                .map(|u| u.login_name.clone())
                .unwrap_or_else(|| "-".to_owned()),
            short(s.created_at),
            s.expires_at.map(short).unwrap_or_else(|| "-".to_owned()),
            short(s.last_access_at),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_align_their_columns() {
        let mut t = super::Table::new(vec!["ID", "NAME"]);
        t.row(vec!["a-long-id".into(), "x".into()]);
        t.row(vec!["b".into(), "".into()]);
        assert_eq!(t.render(), "ID         NAME\na-long-id  x\nb\n");
    }
}
