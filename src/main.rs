use sessiond::config::Command;
use sessiond::config::load::{self, Loaded};
use sessiond::{cli, startup, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Loaded {
        command,
        config,
        effective,
    } = match load::load() {
        Ok(loaded) => loaded,
        Err(load::Error::Usage(e)) => e.exit(),
        Err(load::Error::Config(e)) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    telemetry::init(config.log_format, &config.log);
    let Some(command) = command else {
        return startup::serve(config).await;
    };
    match command {
        Command::Serve(_) => startup::serve(config).await,
        Command::Migrate => cli::migrate(&config).await,
        Command::Openapi { out } => cli::write_openapi(&config, &out),
        Command::User(command) => cli::user(&config, command).await,
        Command::Key(command) => cli::key(&config, command).await,
        Command::Session(command) => cli::session(&config, command).await,
        Command::Backup { file } => cli::backup(&config, &file).await,
        Command::Config => {
            cli::show_config(&effective);
            Ok(())
        }
        Command::Completions { shell } => {
            cli::completions(shell);
            Ok(())
        }
    }
}
