//! Small helpers several resource modules share (names turned into e-mail domains).

/// `"Acme Labs GmbH"` → `"acmelabsgmbh"` (never empty).
pub fn slug(name: &str) -> String {
    let s: String = name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    if s.is_empty() { "customer".into() } else { s }
}
