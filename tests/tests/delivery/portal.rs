//! Issue 17: the portal in a real browser, against the whole local pipeline. The gateway (as
//! `make dev` runs it, routes from template.yaml) serves the API and the portal's pages over
//! DynamoDB Local; fanout and deliver run behind the bridge; a receiver answers. The browser is
//! Debian's chromium, driven by `tests/browser/portal.py` (Selenium, in `.local/browser`), which
//! walks a customer's whole visit; its screenshots are written under
//! `.local/run/portal-screenshots/`.

use crate::common::api::{account, http_functions, with_store};
use crate::support::{WAIT, loopback, world};
use devstack::template::Template;
use shared::adapters::sqs::SqsQueue;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python with Selenium that `local/install.sh` made.
fn python() -> PathBuf {
    let path = workspace().join(".local/browser/bin/python");
    assert!(
        path.exists(),
        "{} is missing: run local/install.sh (make test does)",
        path.display()
    );
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: local/install.sh installs Debian's chromium and chromium-driver as root"
        );
    }
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_uses_the_portal_in_a_real_browser() {
    let python = python();
    let world = world("portal").await;
    let queue = SqsQueue::new(
        world.clients.sqs.clone(),
        world.stack.queue("DeliveryQueue").unwrap().url.clone(),
    );
    let mut api = with_store(world.store.clone(), queue);
    api.targets = loopback();
    let api = Arc::new(api);
    let template = Template::load(&workspace().join("template.yaml")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(devstack::gateway::serve(
        listener,
        template.http_routes().unwrap(),
        Arc::new(http_functions(Arc::clone(&api))),
    ));
    let key = account(&*api, "portal").await;
    world.receiver.always("/failing", 500);
    world.receiver.answer_body(
        "/failing",
        "<script>document.title='pwned';window.xssFired=true</script>",
    );
    // The link, asked for over HTTP as an account would: its origin is the gateway's.
    let link: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/portal/sessions"))
        .bearer_auth(&key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{base}/portal/login?token=rhpl_")),
        "{url}"
    );
    let config = serde_json::json!({
        "link": url,
        "api": base,
        "key": key,
        "good_url": world.receiver.url("/good"),
        "failing_url": world.receiver.url("/failing"),
        "screenshots": workspace().join(".local/run/portal-screenshots"),
    });
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(workspace().join("tests/browser/portal.py"))
            .env("PORTAL_BROWSER_TEST", config.to_string())
            .env("SE_AVOID_STATS", "true")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the browser run failed:\n{report}");
    // What the browser did reached the receiver: 3 events, a resend, the test, the replay.
    let good = world.receiver.received("/good");
    assert!(good.len() >= 6, "{} deliveries to /good", good.len());
    let failing = crate::common::eventually("9 attempts at /failing", WAIT, || async {
        let n = world.receiver.received("/failing").len();
        (n >= 9).then_some(n)
    })
    .await;
    assert_eq!(failing, 9, "3 events, 3 attempts each, then failed");
}
