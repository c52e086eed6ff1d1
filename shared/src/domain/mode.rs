//! Test vs live organizations and Sequence sandbox vs production accounts, and the rule pairing them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Sphere organization is either a test or a live organization; its mode never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Test,
    Live,
}

/// A Sequence account lives in one of Sequence's two environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Sandbox,
    Production,
}

/// Refusal to pair a Sequence environment with an organization of the other mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a Sequence {environment} account can only connect to a Sphere {expected} organization, and this is a {mode} organization (Sequence sandbox ⇔ Sphere test organization, Sequence production ⇔ Sphere live organization)"
)]
pub struct PairingError {
    pub environment: Environment,
    pub mode: Mode,
    pub expected: Mode,
}

impl Mode {
    /// The only Sequence environment an organization of this mode may connect to.
    pub fn paired_environment(self) -> Environment {
        match self {
            Mode::Test => Environment::Sandbox,
            Mode::Live => Environment::Production,
        }
    }

    pub fn is_live(self) -> bool {
        self == Mode::Live
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }

    /// Checks the pairing rule: test ⇔ sandbox, live ⇔ production.
    pub fn check_pairing(self, environment: Environment) -> Result<(), PairingError> {
        if self.paired_environment() == environment {
            Ok(())
        } else {
            Err(PairingError { environment, mode: self, expected: environment.paired_mode() })
        }
    }
}

impl Environment {
    /// The only organization mode this environment may connect to.
    pub fn paired_mode(self) -> Mode {
        match self {
            Environment::Sandbox => Mode::Test,
            Environment::Production => Mode::Live,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Sandbox => "sandbox",
            Environment::Production => "production",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "test" => Ok(Mode::Test),
            "live" => Ok(Mode::Live),
            other => Err(format!("unknown mode {other:?}; expected \"test\" or \"live\"")),
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sandbox" => Ok(Environment::Sandbox),
            "production" => Ok(Environment::Production),
            other => Err(format!("unknown environment {other:?}; expected \"sandbox\" or \"production\"")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_rule_is_test_sandbox_live_production() {
        assert!(Mode::Test.check_pairing(Environment::Sandbox).is_ok());
        assert!(Mode::Live.check_pairing(Environment::Production).is_ok());
        let err = Mode::Live.check_pairing(Environment::Sandbox).unwrap_err();
        assert_eq!(err.expected, Mode::Test);
        assert!(err.to_string().contains("sandbox"));
        assert!(Mode::Test.check_pairing(Environment::Production).is_err());
        for m in [Mode::Test, Mode::Live] {
            assert_eq!(m.paired_environment().paired_mode(), m);
        }
    }
}
