use clap::Parser;
use sessiond::config::{Cli, Command};
use sessiond::{cli, startup, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli { config, command } = Cli::parse();
    telemetry::init(config.log_format, &config.log);
    match command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(config).await,
        Command::Migrate => cli::migrate(&config).await,
        Command::Openapi { out } => cli::write_openapi(&config, &out),
        Command::User(command) => cli::user(&config, command).await,
        Command::Key(command) => cli::key(&config, command).await,
    }
}
