//! Stepmint's desktop app: a Tauri shell over the core library. It starts the embedded issuer
//! (same data directory as the CLI) and exposes thin commands to the front end in `ui/`.

mod commands;
mod state;

pub use state::Desktop;

/// Registers the app's state and commands on a builder (the real runtime, or the mock one in
/// tests).
pub fn builder<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    desktop: Desktop,
) -> tauri::Builder<R> {
    builder
        .manage(desktop)
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::start,
            commands::stop,
            commands::restart,
            commands::add_workspace,
            commands::remove_workspace,
            commands::keys,
            commands::rotate_key,
            commands::add_key,
            commands::retire_key,
            commands::trust_lines,
            commands::save_ca,
            commands::cases,
            commands::mint,
            commands::inspect,
            commands::policy_check,
            commands::requests,
            commands::history,
            commands::clear_history,
            commands::probe,
            commands::recipe_from_request,
            commands::faults,
            commands::fault_set,
            commands::fault_clear,
        ])
}

/// Runs the app.
pub fn run() {
    let desktop = match Desktop::from_environment() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("stepmint-desktop: {e}");
            std::process::exit(1);
        }
    };
    let app = builder(tauri::Builder::default(), desktop)
        .setup(|app| {
            use tauri::Manager;
            let desktop = app.state::<Desktop>().inner().clone();
            // Start the issuer in the background; the Issuer screen shows its state or error.
            tauri::async_runtime::spawn(async move {
                let _ = desktop.start().await;
            });
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                use tauri::Manager;
                let desktop = handle.state::<Desktop>().inner().clone();
                tauri::async_runtime::block_on(desktop.stop());
            }
        }),
        Err(e) => {
            eprintln!("stepmint-desktop: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests;
