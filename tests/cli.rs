//! The command line and the configuration file, through the real binary on
//! temporary SQLite files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::CommandFactory;
use serde_json::{Value, json};
use sessiond::config::Cli;
use sessiond::config::load::settings;

const ADMIN_KEY: &str = "cli-test-admin-key-0123456789abcdefghijkl";

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        assert!(self.ok, "{}", self.stderr);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// A temporary directory with a SQLite database in it.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path("test.db").display())
    }

    /// The binary with no `SESSIOND_*` variable but the database and a
    /// quiet log.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sessiond"));
        for (name, _) in std::env::vars() {
            if name.starts_with("SESSIOND_") {
                cmd.env_remove(name);
            }
        }
        cmd.current_dir(self.dir.path())
            .env("SESSIOND_DATABASE_URL", self.url())
            .env("SESSIOND_LOG", "warn")
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(args), None)
    }

    fn run_with(&self, mut cmd: Command, stdin: Option<&str>) -> Run {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sessiond");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert!(run.ok, "sessiond {args:?}: {}", run.stderr);
        run.stdout
    }

    fn add_user(&self, login: &str) -> String {
        let run = self.run_with(
            self.command(&["user", "add", "--login-name", login, "--password-stdin"]),
            Some(&format!("{login}-password\n")),
        );
        assert!(run.ok, "{}", run.stderr);
        run.stdout.trim().to_owned()
    }

    /// `sessiond serve` on a free port, with the bootstrap admin key.
    fn serve(&self) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = self.command(&["serve"]);
        cmd.env("SESSIOND_LISTEN", format!("127.0.0.1:{port}"))
            .env("SESSIOND_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = Server {
            child: cmd.spawn().expect("start sessiond"),
            port,
        };
        server.wait_until_listening();
        server
    }
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn wait_until_listening(&self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("sessiond did not listen on {}", self.port);
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find<'a>(list: &'a Value, field: &str, value: &str) -> Option<&'a Value> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .find(|item| item[field] == value)
}

// ---------------------------------------------------------------- help

#[test]
fn every_argument_of_every_command_has_help() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().is_empty())
            {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(format!("{path} {} (the command)", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut missing = Vec::new();
    walk(&cmd, "sessiond", &mut missing);
    assert!(missing.is_empty(), "without help: {missing:#?}");
}

#[test]
fn server_options_belong_to_serve_only() {
    let env = Env::new();
    let help = env.ok(&["user", "list", "--help"]);
    assert!(!help.contains("--lockout-threshold"), "{help}");
    assert!(help.contains("--database-url"), "{help}");
    assert!(help.lines().count() < 30, "{help}");
    let help = env.ok(&["serve", "--help"]);
    assert!(help.contains("--lockout-threshold"), "{help}");
    assert!(help.contains("--listen"), "{help}");
}

// ---------------------------------------------------------------- configuration

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sessiond.example.toml")
}

#[test]
fn the_example_file_lists_every_setting_with_its_default() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    for s in settings() {
        match &s.default {
            Some(default) => {
                let value = table
                    .get(&s.key)
                    .unwrap_or_else(|| panic!("{} is missing from the example", s.key));
                let value = match value {
                    toml::Value::String(v) => v.clone(),
                    other => other.to_string(),
                };
                assert_eq!(&value, default, "{} in the example", s.key);
            }
            None => assert!(
                text.contains(&format!("\n# {} = ", s.key)),
                "{} (no default) is missing from the example as a comment",
                s.key
            ),
        }
    }
    let known: Vec<String> = settings().into_iter().map(|s| s.key).collect();
    for key in table.keys() {
        assert!(known.contains(key), "the example has an unknown key {key}");
    }
}

#[test]
fn the_example_file_loads_without_error() {
    let env = Env::new();
    let example = example_path();
    let example = example.to_str().unwrap();
    let out = env.ok(&["--config", example, "config"]);
    for line in out.lines().filter(|l| !l.starts_with('#')) {
        // Every set value comes from the file, but the database URL and
        // the log filter, which the test's environment sets.
        assert!(
            line.ends_with("# file")
                || line.starts_with("database_url")
                || line.starts_with("log "),
            "{line}"
        );
    }
    env.ok(&["--config", example, "migrate"]);
}

#[test]
fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
    let env = Env::new();
    let file = env.path("sessiond.toml");
    std::fs::write(
        &file,
        "lockout_threshold = 3\nid_store_name = \"FromFile\"\nsearch_max_limit = 7\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    // `config` prints each setting's value and where it came from.
    let mut show = env.command(&["--config", file, "config"]);
    show.env("SESSIOND_LOCKOUT_THRESHOLD", "4")
        .env("SESSIOND_ID_STORE_NAME", "FromEnv");
    let out = env.run_with(show, None);
    assert!(out.ok, "{}", out.stderr);
    let out = out.stdout;
    assert!(
        out.contains("lockout_threshold = 4  # environment"),
        "{out}"
    );
    assert!(
        out.contains("id_store_name = \"FromEnv\"  # environment"),
        "{out}"
    );
    assert!(out.contains("search_max_limit = 7  # file"), "{out}");
    assert!(out.contains("oam_max_results = 28  # default"), "{out}");
    let mut show = env.command(&["--config", file, "--log", "debug", "config"]);
    show.env("SESSIOND_LOG", "warn");
    let out = env.run_with(show, None).stdout;
    assert!(out.contains("log = \"debug\"  # flag"), "{out}");
}

#[test]
fn serve_flags_beat_the_environment_and_the_file() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = env.path("sessiond.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1\"\n").unwrap();
    let mut cmd = env.command(&[
        "serve",
        "--config",
        file.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    cmd.env("SESSIOND_LISTEN", "127.0.0.1:2")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = Server {
        child: cmd.spawn().unwrap(),
        port,
    };
    server.wait_until_listening();
}

#[test]
fn no_command_runs_the_server_with_settings_from_the_file() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = env.path("sessiond.toml");
    std::fs::write(&file, format!("listen = \"127.0.0.1:{port}\"\n")).unwrap();
    let mut cmd = env.command(&[]);
    cmd.env("SESSIOND_CONFIG", &file)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = Server {
        child: cmd.spawn().unwrap(),
        port,
    };
    server.wait_until_listening();
}

#[test]
fn unknown_file_keys_and_variables_stop_the_start_with_a_suggestion() {
    let env = Env::new();
    let file = env.path("sessiond.toml");
    std::fs::write(&file, "lockout_treshold = 3\n").unwrap();
    let run = env.run(&["--config", file.to_str().unwrap()]);
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("unknown setting `lockout_treshold`; did you mean `lockout_threshold`?"),
        "{}",
        run.stderr
    );

    std::fs::write(&file, "lockout_threshold = \"many\"\n").unwrap();
    let run = env.run(&["--config", file.to_str().unwrap(), "serve"]);
    assert!(!run.ok);
    assert!(run.stderr.contains("`lockout_threshold`"), "{}", run.stderr);

    let mut cmd = env.command(&["serve"]);
    cmd.env("SESSIOND_LISTN", "127.0.0.1:0");
    let run = env.run_with(cmd, None);
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("unknown environment variable SESSIOND_LISTN; did you mean SESSIOND_LISTEN?"),
        "{}",
        run.stderr
    );

    // Variables the scripts and cargo pass down are not settings, and pass.
    let mut cmd = env.command(&["migrate"]);
    cmd.env("SESSIOND_BIN", "target/debug/sessiond")
        .env("SESSIOND_GIT_COMMIT", "0123abc");
    let run = env.run_with(cmd, None);
    assert!(run.ok, "{}", run.stderr);

    let run = env.run(&[
        "--config",
        env.path("missing.toml").to_str().unwrap(),
        "migrate",
    ]);
    assert!(!run.ok);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

// ---------------------------------------------------------------- users

#[test]
fn user_list_lock_unlock_and_delete() {
    let env = Env::new();
    let alice = env.add_user("alice");
    let bob = env.add_user("bob");

    let table = env.ok(&["user", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID"), "{table}");
    assert!(lines[0].contains("LOGIN NAME") && lines[0].contains("STATE"));
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].starts_with(&alice) && lines[1].contains("active"),
        "{table}"
    );
    assert!(lines[2].starts_with(&bob), "{table}");

    let list = env.run(&["user", "list", "--json"]).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let a = find(&list, "userId", &alice).unwrap();
    assert_eq!(a["loginName"], "alice");
    assert_eq!(a["state"], "active");

    // By login name, case-insensitively.
    let locked = env.run(&["user", "lock", "ALICE", "--json"]).json();
    assert_eq!(locked["userId"], alice.as_str());
    assert_eq!(locked["state"], "locked");
    let list = env.run(&["user", "list", "--json"]).json();
    assert_eq!(find(&list, "userId", &alice).unwrap()["state"], "locked");
    assert_eq!(find(&list, "userId", &bob).unwrap()["state"], "active");

    let table = env.ok(&["user", "unlock", &alice]);
    assert!(table.lines().nth(1).unwrap().contains("active"), "{table}");
    let list = env.run(&["user", "list", "--json"]).json();
    assert_eq!(find(&list, "userId", &alice).unwrap()["state"], "active");

    let deleted = env.run(&["user", "delete", "bob", "--json"]).json();
    assert_eq!(deleted["userId"], bob.as_str());
    let list = env.run(&["user", "list", "--json"]).json();
    assert!(find(&list, "userId", &bob).is_none());
    assert_eq!(list.as_array().unwrap().len(), 1);

    let run = env.run(&["user", "lock", "nobody"]);
    assert!(!run.ok);
    assert!(run.stderr.contains("\"nobody\""), "{}", run.stderr);
}

// ---------------------------------------------------------------- keys

#[test]
fn key_list_and_revoke() {
    let env = Env::new();
    let run = env.run(&[
        "key",
        "create",
        "--name",
        "ci",
        "--permissions",
        "session.read",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let id = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("key id: "))
        .unwrap()
        .to_owned();

    let table = env.ok(&["key", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("PERMISSIONS"),
        "{table}"
    );
    let row = lines.iter().find(|l| l.starts_with(&id)).unwrap();
    assert!(
        row.contains("ci") && row.contains("session.read") && row.ends_with('-'),
        "{table}"
    );

    let list = env.run(&["key", "list", "--json"]).json();
    let key = find(&list, "keyId", &id).unwrap();
    assert_eq!(key["name"], "ci");
    assert_eq!(key["permissions"], json!(["session.read"]));
    assert_eq!(key["revokedAt"], Value::Null);

    let revoked = env.run(&["key", "revoke", &id, "--json"]).json();
    assert_eq!(revoked["keyId"], id.as_str());
    assert!(revoked["revokedAt"].is_string());
    let list = env.run(&["key", "list", "--json"]).json();
    assert!(find(&list, "keyId", &id).unwrap()["revokedAt"].is_string());

    let run = env.run(&["key", "revoke", &id]);
    assert!(!run.ok);
    assert!(run.stderr.contains("already revoked"), "{}", run.stderr);
    let run = env.run(&["key", "revoke", "no-such-key"]);
    assert!(!run.ok);
}

// ---------------------------------------------------------------- sessions

async fn create_session(http: &reqwest::Client, server: &Server, login: &str) -> String {
    let r = http
        .post(format!("{}/v2alpha/sessions", server.base()))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"checks": {"user": {"loginName": login}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    body["sessionId"].as_str().unwrap().to_owned()
}

async fn session_status(http: &reqwest::Client, server: &Server, id: &str) -> u16 {
    http.get(format!("{}/v2alpha/sessions/{id}", server.base()))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn session_list_and_revoke_next_to_a_running_server() {
    let env = Env::new();
    let alice = env.add_user("alice");
    env.add_user("bob");
    let server = env.serve();
    let http = reqwest::Client::new();
    let a1 = create_session(&http, &server, "alice").await;
    let a2 = create_session(&http, &server, "alice").await;
    let b1 = create_session(&http, &server, "bob").await;

    let table = env.ok(&["session", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATE"),
        "{table}"
    );
    assert_eq!(lines.len(), 4, "{table}");
    for id in [&a1, &a2, &b1] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(id.as_str()) && l.contains("active"))
        );
    }

    let list = env
        .run(&["session", "list", "--json", "--user", "alice"])
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        find(&list, "sessionId", &a1).unwrap()["userId"],
        alice.as_str()
    );
    assert_eq!(find(&list, "sessionId", &a1).unwrap()["loginName"], "alice");

    // One session by id.
    let revoked = env.run(&["session", "revoke", &a1, "--json"]).json();
    assert_eq!(revoked[0]["sessionId"], a1.as_str());
    assert_eq!(revoked[0]["state"], "terminated");
    let list = env.run(&["session", "list", "--json"]).json();
    assert!(find(&list, "sessionId", &a1).is_none());
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_ne!(session_status(&http, &server, &a1).await, 200);
    assert_eq!(session_status(&http, &server, &a2).await, 200);
    let run = env.run(&["session", "revoke", &a1]);
    assert!(!run.ok);
    assert!(run.stderr.contains("already terminated"), "{}", run.stderr);

    // Every session of a user, by id or login name.
    let a3 = create_session(&http, &server, "alice").await;
    let table = env.ok(&["session", "revoke", "--user", &alice]);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains(&a2) && table.contains(&a3), "{table}");
    let list = env.run(&["session", "list", "--json"]).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(find(&list, "sessionId", &b1).is_some());
    assert_ne!(session_status(&http, &server, &a3).await, 200);
    assert_eq!(session_status(&http, &server, &b1).await, 200);

    let run = env.run(&["session", "revoke"]);
    assert!(!run.ok);
}

#[tokio::test]
async fn a_user_locked_by_the_cli_cannot_sign_in_on_a_running_server() {
    let env = Env::new();
    env.add_user("carol");
    let server = env.serve();
    let http = reqwest::Client::new();
    let sign_in = || {
        http.post(format!("{}/v2alpha/sessions", server.base()))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"checks": {"user": {"loginName": "carol"}, "password": {"password": "carol-password"}}}))
            .send()
    };
    assert_eq!(sign_in().await.unwrap().status(), 201);
    env.ok(&["user", "lock", "carol"]);
    assert!(!sign_in().await.unwrap().status().is_success());
    env.ok(&["user", "unlock", "carol"]);
    assert_eq!(sign_in().await.unwrap().status(), 201);
}

// ---------------------------------------------------------------- backup

#[test]
fn backup_writes_a_copy_that_opens_as_the_database() {
    let env = Env::new();
    let alice = env.add_user("alice");
    let backup = env.path("backup.db");
    let run = env.run(&["backup", backup.to_str().unwrap()]);
    assert!(run.ok, "{}", run.stderr);
    assert!(backup.exists());
    // Changes after the backup are not in it.
    env.add_user("later");

    let restored = format!("sqlite://{}?mode=rwc", backup.display());
    let list = env
        .run(&["user", "list", "--json", "--database-url", &restored])
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(find(&list, "userId", &alice).unwrap()["loginName"], "alice");

    let run = env.run(&["backup", backup.to_str().unwrap()]);
    assert!(!run.ok);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
}

#[test]
fn backup_refuses_postgres_and_points_to_pg_dump() {
    let env = Env::new();
    let mut cmd = env.command(&["backup", "out.db"]);
    cmd.env(
        "SESSIOND_DATABASE_URL",
        "postgres://postgres@127.0.0.1:1/none",
    );
    let run = env.run_with(cmd, None);
    assert!(!run.ok);
    assert!(run.stderr.contains("pg_dump"), "{}", run.stderr);
    assert!(!env.path("out.db").exists());
}

// ---------------------------------------------------------------- completions

#[test]
fn completions_print_a_script() {
    let env = Env::new();
    let bash = env.ok(&["completions", "bash"]);
    assert!(bash.contains("_sessiond()"), "{bash}");
    assert!(bash.contains("session"));
    let zsh = env.ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef sessiond"), "{zsh}");
    assert!(!env.run(&["completions", "cmd"]).ok);
}
