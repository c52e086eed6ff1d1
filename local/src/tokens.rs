//! Local console authentication. On first start `serve` creates one test and one live organization
//! and writes their bearer tokens to `<data-dir>/console-tokens.json`; a request's token is compared
//! in constant time against both.

use serde::{Deserialize, Serialize};
use shared::domain::{Mode, OrgId};
use shared::org::Principal;
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgToken {
    pub org_id: OrgId,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsoleTokens {
    pub test: OrgToken,
    pub live: OrgToken,
}

pub const FILE_NAME: &str = "console-tokens.json";

impl ConsoleTokens {
    /// Reads the tokens file, creating it (and so the two orgs' identities) on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let path = dir.join(FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = |()| OrgToken {
                    org_id: OrgId::generate(),
                    token: format!("sphc_{}", shared::crypto::hex(&shared::crypto::random_bytes(24))),
                };
                let tokens = ConsoleTokens { test: fresh(()), live: fresh(()) };
                let json = serde_json::to_vec_pretty(&tokens).map_err(|e| e.to_string())?;
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts.open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                std::io::Write::write_all(&mut f, &json).map_err(|e| e.to_string())?;
                Ok(tokens)
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The principal a bearer token stands for. Both entries are always compared (constant time).
    pub fn principal(&self, token: &str) -> Option<Principal> {
        let test = shared::crypto::ct_eq(token.as_bytes(), self.test.token.as_bytes());
        let live = shared::crypto::ct_eq(token.as_bytes(), self.live.token.as_bytes());
        let (entry, mode) = match (test, live) {
            (true, _) => (&self.test, Mode::Test),
            (_, true) => (&self.live, Mode::Live),
            _ => return None,
        };
        Some(Principal { org: entry.org_id.clone(), mode, actor: "local-console".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_created_once_and_map_to_their_org() {
        let dir = std::env::temp_dir().join(format!("tokens-{}", shared::domain::new_uuid()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = ConsoleTokens::load_or_create(&dir).unwrap();
        let b = ConsoleTokens::load_or_create(&dir).unwrap();
        assert_eq!(a.test.token, b.test.token);
        assert_ne!(a.test.org_id, a.live.org_id);
        assert_eq!(a.principal(&a.live.token).unwrap().mode, Mode::Live);
        assert_eq!(a.principal(&a.test.token).unwrap().org, a.test.org_id);
        assert!(a.principal("sphc_wrong").is_none());
        assert!(a.principal("").is_none());
    }
}
