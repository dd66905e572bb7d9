//! `argos-emulator [COMMAND [ARG]...]`: moto's server on a free loopback port,
//! for using the CLI without an AWS account.
//!
//! With a command, runs it with `AWS_ENDPOINT_URL` set to the emulator and
//! stops the emulator when it ends (the command's exit code is ours):
//! `argos-emulator argos-cloud staging commission`. Without one, prints the
//! endpoint and serves until Ctrl-C.

use std::process::ExitCode;

use argos_harness::Emulator;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let emulator = match Emulator::start().await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("argos-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some((program, rest)) = args.split_first() else {
        println!("export AWS_ENDPOINT_URL={}", emulator.endpoint());
        eprintln!(
            "argos-emulator: moto's server is ready at {}; Ctrl-C stops it",
            emulator.endpoint()
        );
        let _ = tokio::signal::ctrl_c().await;
        return ExitCode::SUCCESS;
    };
    eprintln!(
        "argos-emulator: moto's server at {}; running {program}",
        emulator.endpoint()
    );
    let status = tokio::process::Command::new(program)
        .args(rest)
        .env("AWS_ENDPOINT_URL", emulator.endpoint())
        .status()
        .await;
    match status {
        Ok(status) => ExitCode::from(
            status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or(1),
        ),
        Err(error) => {
            eprintln!("argos-emulator: cannot run {program}: {error}");
            ExitCode::FAILURE
        }
    }
}
