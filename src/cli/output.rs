//! Output: text for people, JSON for scripts (`-o json`); errors in the same
//! format on stderr.

use std::io::Write;

use crate::error::Error;

/// `-o/--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Print text on stdout. A closed pipe (`wasmship … | head`) is not an error.
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Print a JSON value on stdout, one line.
pub fn print_json(value: &serde_json::Value) {
    // Which host served what, when mirrors were configured for what was pulled.
    if let Some(served) = crate::mirror::trail::take_json()
        && let Some(object) = value.as_object()
    {
        let mut object = object.clone();
        object.insert("servedBy".into(), served);
        print_text(&format!("{}\n", serde_json::Value::Object(object)));
        return;
    }
    print_text(&format!("{value}\n"));
}

/// Print an error on stderr: `error: …`, or `{"success":false,"kind":…,"error":…}` with
/// the error's category (`ErrorKind::name`).
pub fn print_error(format: OutputFormat, error: &Error) {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    let mut err = std::io::stderr().lock();
    let _ = match format {
        OutputFormat::Text => writeln!(err, "error: {message}"),
        OutputFormat::Json => {
            writeln!(err, "{}", serde_json::json!({"success": false, "kind": error.kind().name(), "error": message}))
        }
    };
}
