use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    causeway::cli::run().await
}
