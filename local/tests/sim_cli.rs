//! `sphere-local sim` as a newcomer runs it: it starts, prints the sandbox and production credentials,
//! writes them with `--credentials-out`, and answers `GET /sequence-accounts` with them — each
//! environment only with its own.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn sim_starts_prints_credentials_and_answers_sequence_accounts() {
    let dir = std::env::temp_dir().join(format!("sim-cli-{}", shared::domain::new_uuid()));
    std::fs::create_dir_all(&dir).unwrap();
    let creds_path = dir.join("creds.json");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sphere-local"))
        .args(["sim", "--addr", &format!("127.0.0.1:{port}"), "--seed", "7", "--credentials-out"])
        .arg(&creds_path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("credentials written") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let creds: serde_json::Value = serde_json::from_slice(&std::fs::read(&creds_path).unwrap()).unwrap();
    let http = reqwest::Client::new();
    for env in ["sandbox", "production"] {
        let c = &creds[env];
        assert!(printed.contains(c["client_secret"].as_str().unwrap()), "{env} secret printed");
        let url = format!("http://127.0.0.1:{port}/{env}/api/sequence-accounts");
        let r = http
            .get(&url)
            .basic_auth(c["client_id"].as_str().unwrap(), c["client_secret"].as_str())
            .header("Sequence-Version", "2024-07-30")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{env}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["items"][0]["id"], c["account_id"], "{env}");
        // the other environment's credentials are refused in Sequence's error shape
        let other = &creds[if env == "sandbox" { "production" } else { "sandbox" }];
        let r = http
            .get(&url)
            .basic_auth(other["client_id"].as_str().unwrap(), other["client_secret"].as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["type"].is_string(), "{body}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
