use std::process::ExitCode;

use leptos::config::get_configuration;
use server::{
    admin,
    config::Settings,
    startup::{shutdown_signal, Application, SHUTDOWN_GRACE},
    telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };

    let args: Vec<String> = std::env::args().skip(1).collect();
    match admin::Command::parse(&args) {
        Some(Ok(command)) => {
            return match admin::run(command, &settings).await {
                Ok(done) => {
                    println!("{done}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Err(usage)) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
        None if !args.is_empty() => {
            eprintln!("unknown arguments {args:?}\n{}", admin::USAGE);
            return ExitCode::from(2);
        }
        None => {}
    }
    telemetry::init(settings.environment);

    let leptos_options = match get_configuration(None) {
        Ok(configuration) => configuration.leptos_options,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };

    let application = match Application::build(settings, leptos_options).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!("could not start: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", application.local_addr());
    if let Some(addr) = application.metrics_addr() {
        tracing::info!("metrics on http://{addr}/metrics");
    }

    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(());
    };
    let serve = application.run_until_stopped(shutdown);
    tokio::pin!(serve);

    // Once a signal arrives, in-flight requests get SHUTDOWN_GRACE to finish.
    let result = tokio::select! {
        result = &mut serve => result,
        _ = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("shutdown grace period elapsed; exiting");
            Ok(())
        }
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}
