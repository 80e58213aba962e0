//! The packager's errors as the `wasmship:packager/types@0.2.0` error variant: the
//! category from [`ErrorKind`], the message from the error's `Display` (which never holds
//! a secret).

use super::bindings::exports::wasmship::packager0_2_0::types::Error as WitError;
use crate::error::{Error, ErrorKind};

/// The WIT error for `e`.
pub(super) fn to_wit(e: Error) -> WitError {
    let message = e.to_string();
    match e.kind() {
        ErrorKind::InvalidReference => WitError::InvalidReference(message),
        ErrorKind::InvalidInput => WitError::InvalidInput(message),
        ErrorKind::Usage => WitError::Usage(message),
        ErrorKind::Config => WitError::Config(message),
        ErrorKind::InvalidArchive => WitError::InvalidArchive(message),
        ErrorKind::TooLarge => WitError::TooLarge(message),
        ErrorKind::Policy => WitError::Policy(message),
        ErrorKind::Unverified => WitError::Unverified(message),
        ErrorKind::NotFound => WitError::NotFound(message),
        ErrorKind::Unauthorized => WitError::Unauthorized(message),
        ErrorKind::DigestMismatch => WitError::DigestMismatch(message),
        ErrorKind::UnsupportedMediaType => WitError::UnsupportedMediaType(message),
        ErrorKind::Registry => WitError::Registry(message),
        ErrorKind::Transport => WitError::Transport(message),
        ErrorKind::Io => WitError::Io(message),
    }
}
