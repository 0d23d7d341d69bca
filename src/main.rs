use std::process::ExitCode;

// Pages and API calls allocate many small, short-lived buffers (rows, headers, rendered
// HTML); mimalloc serves them with less CPU than glibc's allocator under concurrency.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    causeway::cli::run().await
}
