//! `sphere-local serve` end to end: the real binary answers /healthz and writes the tokens file; the
//! console routes require a valid bearer token; data survives a restart.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn temp_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sphere-local-test-{}", shared::domain::new_uuid()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts the binary on a free port and returns (child, base url).
fn start(dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sphere-local"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.split_whitespace().last().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

#[tokio::test]
async fn serve_answers_healthz_authenticates_console_and_keeps_data_across_restart() {
    let dir = temp_dir();
    let http = reqwest::Client::new();
    let (mut child, url) = start(&dir);
    let health: serde_json::Value = http.get(format!("{url}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let tokens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("console-tokens.json")).unwrap()).unwrap();
    let (test_token, test_org) =
        (tokens["test"]["token"].as_str().unwrap(), tokens["test"]["org_id"].as_str().unwrap());
    let live_token = tokens["live"]["token"].as_str().unwrap();

    let org = |token: String| {
        let http = http.clone();
        let url = url.clone();
        async move { http.get(format!("{url}/v1/organization")).bearer_auth(token).send().await.unwrap() }
    };
    let r = org(test_token.to_owned()).await;
    assert_eq!(r.status(), 200);
    let before: serde_json::Value = r.json().await.unwrap();
    assert_eq!(before["org_id"], test_org);
    assert_eq!(before["mode"], "test");
    let live: serde_json::Value = org(live_token.to_owned()).await.json().await.unwrap();
    assert_eq!(live["mode"], "live");

    assert_eq!(org("sphc_wrong".into()).await.status(), 401);
    let r = http.get(format!("{url}/v1/organization")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, url) = start(&dir);
    let after: serde_json::Value =
        http.get(format!("{url}/v1/organization")).bearer_auth(test_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(after, before, "same org record after a restart");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn serve_keeps_its_files_private_and_drains_on_sigterm() {
    use std::os::unix::fs::PermissionsExt;
    /// Kills the server if an assertion fails first (it would hold the test's pipes open).
    struct Guard(std::process::Child);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = temp_dir();
    let (child, url) = start(&dir);
    let mut child = Guard(child);
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{url}/healthz")).send().await.unwrap().status(), 200);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "data dir");
    for f in ["store.redb", "master.key", "console-tokens.json"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    // SIGTERM (what kill, systemd and container runtimes send): the server stops accepting, answers what is in
    // flight, drains the store's writer and exits cleanly — before, SIGTERM killed it mid-write.
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "still running 15 s after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
    // The store opens again after the drained exit.
    let (child, url) = start(&dir);
    let _restarted = Guard(child);
    assert_eq!(http.get(format!("{url}/healthz")).send().await.unwrap().status(), 200);
}
