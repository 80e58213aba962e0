//! Registry error bodies (`{"errors":[{"code","message","detail"}]}`) turned
//! into typed errors that name the registry, the action and the subject.

use serde::Deserialize;

use crate::error::Error;
use crate::oci::manifest::ErrorEntry;

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

/// The error for a response with an unexpected `status` and `body`.
pub fn from_response(registry: &str, status: u16, body: &[u8], action: &str, subject: &str) -> Error {
    let entries = serde_json::from_slice::<ErrorBody>(body).map(|b| b.errors).unwrap_or_default();
    let echo = |text: String| crate::error::excerpt(&text, crate::error::MAX_ECHO);
    let code =
        (!entries.is_empty()).then(|| echo(entries.iter().map(|e| e.code.as_str()).collect::<Vec<_>>().join(", ")));
    let message =
        echo(entries.iter().map(|e| e.message.as_str()).filter(|m| !m.is_empty()).collect::<Vec<_>>().join("; "));
    let message = if message.is_empty() {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        (!text.is_empty() && text.len() < 300 && entries.is_empty()).then(|| text.to_string())
    } else {
        Some(message)
    };
    let denied = code.as_deref().is_some_and(|c| c.contains("DENIED"));
    match status {
        401 => Error::Unauthorized {
            registry: registry.to_string(),
            detail: format!("{action} {subject}: {}", message.unwrap_or_else(|| "401 Unauthorized".into())),
        },
        403 if denied => Error::Unauthorized {
            registry: registry.to_string(),
            detail: format!(
                "{action} {subject}: access denied ({}); check the credentials' permissions and that the repository exists",
                message.unwrap_or_else(|| "403 Forbidden".into())
            ),
        },
        404 => Error::NotFound {
            what: format!("{subject}{}", code.map(|c| format!(" ({c})")).unwrap_or_default()),
            location: registry.to_string(),
        },
        _ => Error::Registry {
            registry: registry.to_string(),
            action: action.to_string(),
            subject: subject.to_string(),
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_error_codes_and_messages() {
        let body = br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{}}]}"#;
        let e = from_response("r.io", 400, body, "push manifest", "a:1");
        let text = e.to_string();
        assert!(
            text.contains("MANIFEST_INVALID") && text.contains("manifest invalid") && text.contains("a:1"),
            "{text}"
        );
        assert!(text.contains("400"), "{text}");
    }

    #[test]
    fn a_huge_or_multiline_registry_message_is_cut_to_one_short_line() {
        let message = format!("line one\n{}", "z".repeat(60_000));
        let body = serde_json::json!({"errors": [{"code": "DENIED", "message": message}]}).to_string();
        let text = from_response("r.io", 400, body.as_bytes(), "pull", "a:1").to_string();
        assert!(text.len() < 500 && !text.contains('\n') && text.contains("more characters"), "{}", text.len());
    }

    #[test]
    fn maps_statuses_to_kinds() {
        let e = from_response("r.io", 404, br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"x"}]}"#, "get", "m");
        assert!(matches!(e, Error::NotFound { .. }));
        let e = from_response("r.io", 401, b"", "get", "m");
        assert!(matches!(e, Error::Unauthorized { .. }));
        let e = from_response(
            "ghcr.io",
            403,
            br#"{"errors":[{"code":"DENIED","message":"permission_denied"}]}"#,
            "push",
            "x",
        );
        assert!(e.to_string().contains("access denied"), "{e}");
    }
}
