//! How a receiver port answers, switched at run time (`PUT /__mode/<mode>` on that port): the
//! faults a webhook endpoint shows in the wild, for `make chaos`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a `timeout` receiver keeps a request before answering: longer than any sender waits.
pub const HANG: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Verifies the signature: 204, or 401 when it does not verify.
    #[default]
    Verify,
    /// Answers this status without looking at the request (500, 410, …).
    Status(u16),
    /// Keeps the request open for [`HANG`].
    Timeout,
    /// Drops the connection without an answer, with a TCP reset where the socket allows.
    Reset,
}

impl Mode {
    /// `verify`, `timeout`, `reset` or a status code.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "verify" => Some(Self::Verify),
            "timeout" => Some(Self::Timeout),
            "reset" => Some(Self::Reset),
            code => code
                .parse::<u16>()
                .ok()
                .filter(|c| (200..600).contains(c))
                .map(Self::Status),
        }
    }

    #[must_use]
    pub fn name(self) -> String {
        match self {
            Self::Verify => "verify".into(),
            Self::Timeout => "timeout".into(),
            Self::Reset => "reset".into(),
            Self::Status(code) => code.to_string(),
        }
    }
}

/// Each port's mode (ports not named verify).
#[derive(Debug, Clone, Default)]
pub struct Modes(Arc<Mutex<HashMap<u16, Mode>>>);

impl Modes {
    #[must_use]
    pub fn of(&self, port: u16) -> Mode {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&port)
            .copied()
            .unwrap_or_default()
    }

    pub fn set(&self, port: u16, mode: Mode) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(port, mode);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_name_round_trip() {
        for (text, mode) in [
            ("verify", Mode::Verify),
            ("timeout", Mode::Timeout),
            ("reset", Mode::Reset),
            ("500", Mode::Status(500)),
            ("410", Mode::Status(410)),
        ] {
            assert_eq!(Mode::parse(text), Some(mode));
            assert_eq!(mode.name(), text);
        }
        for bad in ["", "ok", "99", "600", "5OO"] {
            assert_eq!(Mode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ports_default_to_verify_and_keep_their_own_mode() {
        let modes = Modes::default();
        modes.set(1, Mode::Status(500));
        assert_eq!(modes.of(1), Mode::Status(500));
        assert_eq!(modes.of(2), Mode::Verify);
    }
}
