#!/usr/bin/env python3
"""The portal in a real browser (issue 17): Debian's chromium, headless, through chromedriver.

Run by the Rust test `tests/tests/delivery/portal.rs`, which starts the local stack's gateway,
fanout and deliver, a receiver, and an account, and passes them in PORTAL_BROWSER_TEST (JSON):
link, api, key, good_url, failing_url, screenshots. It opens the magic link, creates endpoints
to the receiver, publishes an event through the API, sees it delivered in the event log and the
failing endpoint's attempts (whose answer is a <script> probe, shown as text), resends, rotates
the secret, sends a test, replays, signs out. Screenshots go to `screenshots`. Exit 0 or a
traceback naming the step.
"""

import json
import os
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

CONFIG = json.loads(os.environ["PORTAL_BROWSER_TEST"])
WAIT = 60


def step(text):
    print(f"portal: {text}", flush=True)


def browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1100",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def api(method, path, body=None):
    request = urllib.request.Request(
        CONFIG["api"] + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "authorization": f"Bearer {CONFIG['key']}",
            "content-type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read() or b"null")


def navigate(driver, element, confirm=False):
    """Clicks an element that loads another page (accepting its confirm dialog), and waits
    until that page has loaded: a click returns before the browser has left the old one. The
    old page is marked; a new document has no mark."""
    driver.execute_script("window.portalTestOldPage = true")
    element.click()
    if confirm:
        WebDriverWait(driver, 10).until(expected_conditions.alert_is_present())
        driver.switch_to.alert.accept()
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script(
            "return window.portalTestOldPage === undefined && document.readyState === 'complete'"
        )
    )


def click(driver, css, confirm=False):
    navigate(driver, driver.find_element(By.CSS_SELECTOR, css), confirm)


def text(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def notice(driver):
    return text(driver, "#notice")


def shot(driver, name):
    os.makedirs(CONFIG["screenshots"], exist_ok=True)
    path = os.path.join(CONFIG["screenshots"], name)
    driver.save_screenshot(path)
    step(f"screenshot {path}")


def until(driver, what, check, path=None):
    """Reloads `path` (or the current page) until `check(driver)` holds."""
    deadline = time.time() + WAIT
    while True:
        driver.get(path or driver.current_url)
        if check(driver):
            return
        if time.time() > deadline:
            raise AssertionError(f"{what}: not within {WAIT} s; page:\n{driver.page_source[:3000]}")
        time.sleep(1)


def create_endpoint(driver, url, description):
    click(driver, "#nav-endpoints")
    click(driver, "#new-endpoint")
    driver.find_element(By.ID, "url").send_keys(url)
    driver.find_element(By.ID, "description").send_keys(description)
    driver.find_element(By.CSS_SELECTOR, "input[name=event_type][value='order.received']").click()
    click(driver, "#create-endpoint")
    assert "Endpoint created" in notice(driver), driver.page_source[:2000]
    return text(driver, "#endpoint-id")


def main():
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(profile)
        try:
            run(driver)
        except Exception:
            shot(driver, "failure.png")
            print(f"portal: failed at {driver.current_url}:\n{driver.page_source}")
            raise
        finally:
            driver.quit()


def run(driver):
    step("open the magic link: its page sends the form by itself")
    driver.get(CONFIG["link"])
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/portal/endpoints"))
    cookie = driver.get_cookie("rusthook_portal")
    assert cookie, driver.get_cookies()
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict", cookie
    assert cookie["path"] == "/portal", cookie
    assert driver.execute_script("return document.cookie") == "", "the session is not readable"
    background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(250, 250, 250)", f"the stylesheet did not apply: {background}"

    step("create two endpoints to the receiver: one answers 200, one 500 with a <script>")
    good = create_endpoint(driver, CONFIG["good_url"], "orders, good")
    failing = create_endpoint(driver, CONFIG["failing_url"], "orders, failing")

    step("publish an event through the API and see it delivered in the event log")
    event = api("POST", "/api/v1/events", {"type": "order.received", "payload": {"order": 7}})["id"]
    for order in (8, 9):
        api("POST", "/api/v1/events", {"type": "order.received", "payload": {"order": order}})
    until(
        driver,
        "the event delivered to one endpoint and failed to the other",
        lambda d: f'data-id="{event}"' in d.page_source
        and "delivered" in d.find_element(By.CSS_SELECTOR, f"tr[data-id='{event}']").text
        and "failed" in d.find_element(By.CSS_SELECTOR, f"tr[data-id='{event}']").text,
        path=CONFIG["api"] + "/portal/events",
    )
    Select(driver.find_element(By.ID, "status")).select_by_value("failed")
    click(driver, "#apply-filter")
    assert event in driver.page_source, "the failed filter keeps it"
    Select(driver.find_element(By.ID, "status")).select_by_value("delivered")
    click(driver, "#apply-filter")
    assert event not in driver.page_source, "one of its deliveries failed"

    step("the event's page: deliveries, attempts, the receiver's <script> shown as text")
    driver.get(f"{CONFIG['api']}/portal/events/{event}")
    assert text(driver, "#payload").replace(" ", "").replace("\n", "") == '{"order":7}'
    rows = driver.find_elements(By.CSS_SELECTOR, "#attempts tr.attempt")
    assert len(rows) == 4, f"{len(rows)} attempts: 1 delivered + 3 failed"
    assert CONFIG["good_url"] in text(driver, "#deliveries"), "endpoints named by URL"
    responses = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "pre.response")]
    assert any("<script>" in r for r in responses), responses
    assert driver.execute_script("return window.xssFired") is None, "the probe ran"
    assert driver.title != "pwned"
    shot(driver, "event.png")

    step("resend to the good endpoint")
    click(driver, f"tr[data-subscription='{good}'] button.resend")
    assert notice(driver) == "Resent."
    until(
        driver,
        "a second delivered attempt to the good endpoint",
        lambda d: len(
            [
                r
                for r in d.find_elements(By.CSS_SELECTOR, "#attempts tr.attempt.delivered")
                if CONFIG["good_url"] in r.text
            ]
        )
        >= 2,
    )

    step("the good endpoint: reveal and rotate its secret, send a test, replay")
    driver.get(f"{CONFIG['api']}/portal/endpoints/{good}")
    click(driver, "#reveal-secret")
    first = text(driver, "#secret")
    assert first.startswith("whsec_"), first
    click(driver, "#rotate-secret", confirm=True)
    assert notice(driver).startswith("Secret rotated"), notice(driver)
    click(driver, "#reveal-secret")
    second = text(driver, "#secret")
    assert second.startswith("whsec_") and second != first
    click(driver, "#send-test")
    assert notice(driver) == "Test event sent."
    since = driver.find_element(By.ID, "since")
    driver.execute_script("arguments[0].value = '2020-01-01T00:00'", since)
    click(driver, "#replay")
    assert notice(driver).startswith("Replay started"), notice(driver)
    until(
        driver,
        "the test event and the replay delivered",
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#attempts tr.attempt.delivered")) >= 4,
    )
    shot(driver, "endpoint.png")

    step("the endpoint list: success rates and the chart")
    driver.get(CONFIG["api"] + "/portal/endpoints")
    good_row = driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{good}']").text
    failing_row = driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{failing}']").text
    assert "100 %" in good_row, good_row
    assert "0 %" in failing_row, failing_row
    bars = driver.find_elements(By.CSS_SELECTOR, "#activity-chart rect.delivered")
    assert len(bars) == 24
    assert any(float(b.get_attribute("height")) > 0 for b in bars)
    shot(driver, "endpoints.png")

    step("no Content-Security-Policy violation on any page")
    violations = [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]
    assert not violations, violations

    driver.get(CONFIG["api"] + "/portal/events")
    shot(driver, "event-log.png")

    step("sign out: the session ends")
    click(driver, "#sign-out")
    assert "Signed out" in driver.find_element(By.TAG_NAME, "h1").text
    driver.get(CONFIG["api"] + "/portal/endpoints")
    assert "Signed out" in driver.find_element(By.TAG_NAME, "h1").text
    step("all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 - the traceback is the report
        import traceback

        traceback.print_exc()
        sys.exit(1)
