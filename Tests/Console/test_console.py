#!/usr/bin/python3
"""The web console in a real browser: headless Chromium driven by Selenium against a real
`whago serve` on the embedded default configuration (local simulator workers, no proxy, file
store), on 127.0.0.1 only.

Run by scripts/test (which installs chromium, chromium-driver and python3-selenium); by hand:
    WHAGO_BIN=$(swift build --show-bin-path)/whago /usr/bin/python3 Tests/Console/test_console.py
Screenshots of every step go to $WHAGO_CONSOLE_OUTPUT (default .build/console-test/), named after
their test. The tests run in a random order (its seed printed; WHAGO_TEST_SEED replays it), so
that none can lean on what another left behind.
"""

import base64
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from console_support import OUTPUT, WAIT, WHAGO, Receiver, Whago, await_condition, free_ports  # noqa: F401


class ConsoleTests(unittest.TestCase):
    """Each test makes its own tenants, chips and webhook receiver: they share the whago process
    and the browser, never records, and run in a random order."""

    @classmethod
    def setUpClass(cls):
        shutil.rmtree(OUTPUT, ignore_errors=True)
        os.makedirs(OUTPUT)
        cls.directory = tempfile.mkdtemp(prefix="whago-console.")
        # API keys shown to any test: none may reach whago's log.
        cls.secrets = []
        # One delivery attempt, so a refused webhook event is dead-lettered at once; an hour between
        # a chip's messages, so the send after the first is paced however slow the machine.
        cls.whago = Whago(cls.directory, extra=["--set", "webhooks.maxAttempts=1", "--set", "limits.sending.minGap=1h"])
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                         "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
                         "--disable-domain-reliability", "--metrics-recording-only", "--no-proxy-server"]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        cls.browser = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        cls.browser.set_page_load_timeout(WAIT)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        status = cls.whago.stop()
        log = cls.whago.read_log()
        shutil.copy(cls.whago.log_path, os.path.join(OUTPUT, "serve.log"))
        shutil.rmtree(cls.directory, ignore_errors=True)
        problems = []
        if status != 0:
            problems.append(f"whago serve exited with {status} on SIGTERM")
        if cls.whago.admin_token in log:
            problems.append("the admin token appears in whago's log")
        for key in cls.secrets:
            if key in log:
                problems.append("an API key appears in whago's log")
        errors = [line for line in log.splitlines() if " error " in line]
        if errors:
            problems.append("whago logged errors:\n" + "\n".join(errors[:10]))
        if problems:
            raise AssertionError("; ".join(problems))

    # Helpers

    def setUp(self):
        self.steps = 0
        self.browser.get(self.whago.base + "/")
        self.browser.execute_script("sessionStorage.clear()")
        self.browser.get(self.whago.base + "/#/login")
        self.wait_for(By.ID, "credential")

    def tearDown(self):
        # The console must run without a script error or a Content-Security-Policy violation.
        entries = self.browser.get_log("browser")
        bad = [entry["message"] for entry in entries
               if entry["level"] == "SEVERE" and not re.search(r"Failed to load resource: the server responded with a status of (401|404|409|422|429)", entry["message"])]
        self.assertEqual(bad, [], "the browser console reported errors")

    def shot(self, name):
        """A screenshot of the whole page (not only the window), named after its test and numbered in
        the order of the test's steps."""
        self.steps += 1
        path = os.path.join(OUTPUT, f"{self._testMethodName.removeprefix('test_')}-{self.steps:02d}-{name}.png")
        size = self.browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        image = self.browser.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(image["data"]))
        return path

    def wait_for(self, by, selector, condition=EC.visibility_of_element_located, timeout=WAIT):
        try:
            return WebDriverWait(self.browser, timeout).until(condition((by, selector)))
        except TimeoutException:
            self.shot("timeout")
            raise AssertionError(f"timed out waiting for {selector} on {self.browser.current_url}")

    def wait_until(self, predicate, what, timeout=WAIT):
        try:
            return WebDriverWait(self.browser, timeout).until(lambda driver: predicate())
        except TimeoutException:
            self.shot("timeout")
            raise AssertionError(f"timed out waiting for {what} on {self.browser.current_url}")

    def log_in(self, credential):
        field = self.wait_for(By.ID, "credential")
        field.clear()
        field.send_keys(credential)
        self.browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()

    def new_tenant(self, name, **extra):
        status, created = self.whago.api("POST", "/api/v1/tenants", self.whago.admin_token, {"name": name, **extra})
        self.assertEqual(status, 201, created)
        self.secrets.append(created["apiKey"])
        return created

    def scan(self, value):
        """What the simulator's virtual phone does: POST the QR value to the worker that showed it."""
        authority = re.match(r"waha-sim://([^/]+)/", value).group(1)
        self.assertTrue(authority.startswith("127.0.0.1:"), authority)
        scan = urllib.request.Request(f"http://{authority}/_sim/scan", data=json.dumps({"qr": value}).encode(),
                                      headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(scan, timeout=20) as response:
            self.assertIn(response.status, (200, 201))

    def badge(self, scope):
        return self.browser.find_element(By.CSS_SELECTOR, f"{scope} .badge").get_attribute("data-status")

    def qr_in_page(self):
        """The PNG the page shows, decoded with zbarimg, and the value the page says it shows."""
        image = self.wait_for(By.CSS_SELECTOR, "#qr-image[src^='data:image/png;base64,']")
        source = image.get_attribute("src")
        path = os.path.join(self.directory, "qr.png")
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(source.split(",", 1)[1]))
        decoded = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True)
        self.assertEqual(decoded.returncode, 0, f"zbarimg could not read the page's QR code: {decoded.stderr}")
        return decoded.stdout.strip(), image.get_attribute("data-value")

    # Tests

    def test_wrong_key_is_refused(self):
        # With the keyboard only: the field has the focus, Enter submits.
        self.assertEqual(self.browser.switch_to.active_element.get_attribute("id"), "credential")
        self.browser.switch_to.active_element.send_keys("whago_live_this-is-not-a-key" + Keys.ENTER)
        message = self.wait_for(By.CSS_SELECTOR, "#login-message .notice.error")
        self.assertIn("refused", message.text)
        self.shot("wrong-key")
        self.assertTrue(self.browser.current_url.endswith("#/login"))
        self.assertIsNone(self.browser.execute_script("return sessionStorage.getItem('whago.credential')"))
        self.assertEqual(self.browser.find_element(By.ID, "credential").get_attribute("aria-invalid"), "true")

    def test_tenant_gets_a_chip_scans_it_sends_and_deletes_it(self):
        tenant = self.new_tenant("console-tenant")
        key = tenant["apiKey"]
        self.shot("login")
        self.log_in(key)
        self.wait_for(By.ID, "empty")
        self.assertNotIn(key, self.browser.current_url)
        self.assertEqual(self.browser.execute_script("return localStorage.length"), 0)
        self.shot("chips-empty")

        # Create
        self.browser.find_element(By.ID, "new-chip").click()
        self.wait_for(By.ID, "chip-name").send_keys("console-1")
        # The API's refusal is shown beside the form, on the field it is about.
        self.browser.find_element(By.ID, "chip-country").send_keys("b1")
        self.browser.find_element(By.ID, "create-chip").click()
        refusal = self.wait_for(By.CSS_SELECTOR, "#create-message .notice.error")
        self.assertIn("country", refusal.text)
        self.assertEqual(self.browser.find_element(By.ID, "chip-country").get_attribute("aria-invalid"), "true")
        self.shot("create-refused")
        self.browser.find_element(By.ID, "chip-country").clear()
        self.shot("create")
        self.browser.find_element(By.ID, "create-chip").click()
        self.wait_until(lambda: re.search(r"#/chips/chip", self.browser.current_url), "the chip's page")
        chip_id = self.browser.current_url.split("#/chips/")[1]

        # The QR code: the PNG in the page is the chip's current QR value.
        for attempt in range(3):
            decoded, shown = self.qr_in_page()
            status, current = self.whago.api("GET", f"/api/v1/chips/{chip_id}/qr?format=raw", key)
            self.assertEqual(status, 200, current)
            if decoded == current["value"]:
                break
            # WAHA rotated the code between the two reads: the page follows it.
            self.wait_until(lambda: self.browser.find_element(By.ID, "qr-image").get_attribute("data-value") != shown, "a new QR code")
        self.assertEqual(decoded, current["value"], "the page's QR code is not the chip's current one")
        self.assertEqual(decoded, shown)
        self.assertRegex(self.wait_for(By.ID, "qr-countdown").text, r"A new code in about \d+ s")
        self.assertEqual(self.badge("#chip-status"), "SCAN_QR_CODE")
        self.shot("qr")

        # A pairing code instead: a bad number is refused beside the form, a good one gets its code shown.
        self.browser.find_element(By.XPATH, "//summary[normalize-space()='Use a pairing code instead']").click()
        self.wait_for(By.ID, "pairing-phone").send_keys("12")
        self.browser.find_element(By.CSS_SELECTOR, "#pairing-form button[type=submit]").click()
        self.wait_for(By.CSS_SELECTOR, "#pairing-result .notice.error")
        self.browser.find_element(By.ID, "pairing-phone").clear()
        self.browser.find_element(By.ID, "pairing-phone").send_keys("+5511988887777")
        self.browser.find_element(By.CSS_SELECTOR, "#pairing-form button[type=submit]").click()
        self.assertRegex(self.wait_for(By.ID, "pairing-code").text, r"^[A-Z0-9]{4}-[A-Z0-9]{4}$")
        self.shot("pairing-code")

        # A virtual phone scans it; the badge turns WORKING without a page reload.
        self.browser.execute_script("window.stillTheSamePage = true")
        self.scan(decoded)
        self.wait_for(By.CSS_SELECTOR, "#chip-status .badge[data-status='WORKING']")
        self.assertTrue(self.browser.execute_script("return window.stillTheSamePage === true"), "the page was reloaded")
        self.assertRegex(self.wait_for(By.ID, "paired-phone").text, r"^\+\d+$")
        self.assertIn("Simulated", self.browser.find_element(By.ID, "paired").text)  # the profile name
        self.shot("working")

        # Send a test message; the next one at once is paced (429 with the wait).
        self.browser.find_element(By.ID, "send-to").send_keys("5511999999999")
        self.browser.find_element(By.ID, "send-text").send_keys("hello from the console test")
        self.browser.find_element(By.ID, "send-button").click()
        sent = self.wait_for(By.CSS_SELECTOR, "#send-result .notice.ok")
        self.assertIn("Message sent", sent.text)
        self.shot("sent")
        self.browser.find_element(By.ID, "send-button").click()
        paced = self.wait_for(By.CSS_SELECTOR, "#send-result .notice.error")
        self.assertRegex(paced.text, r"Wait \d+ s")
        self.shot("paced")

        # The list shows it WORKING, and follows a change made elsewhere (a logout by the API) live.
        self.browser.find_element(By.CSS_SELECTOR, ".crumbs a").click()
        row = f"tr[data-chip-id='{chip_id}']"
        self.wait_for(By.CSS_SELECTOR, f"{row} .badge[data-status='WORKING']")
        self.shot("chips-working")
        self.browser.set_window_size(390, 844)
        self.wait_for(By.CSS_SELECTOR, row)
        self.assertLessEqual(self.browser.execute_script("return document.documentElement.scrollWidth"),
                             self.browser.execute_script("return window.innerWidth"), "the chips page scrolls sideways at phone width")
        self.shot("chips-phone-width")
        self.browser.set_window_size(1280, 1000)
        self.browser.execute_script("window.stillTheSamePage = true")
        status, _ = self.whago.api("POST", f"/api/v1/chips/{chip_id}/logout", key)
        self.assertEqual(status, 200)
        self.wait_for(By.CSS_SELECTOR, f"{row} .badge[data-status='SCAN_QR_CODE']")
        self.assertTrue(self.browser.execute_script("return window.stillTheSamePage === true"), "the page was reloaded")
        self.shot("chips-live")

        # whago restarts: the page's event stream reconnects from its last event and goes on.
        self.assertEqual(self.browser.find_element(By.ID, "live").get_attribute("data-after"), "latest")
        self.whago.restart()
        # Live again, resumed after its last event (Last-Event-ID) rather than from where the log ends.
        self.wait_for(By.CSS_SELECTOR, "#live[data-state='live']:not([data-after='latest'])")
        status, current = self.whago.api("GET", f"/api/v1/chips/{chip_id}/qr?format=raw", key)
        self.assertEqual(status, 200, current)
        self.scan(current["value"])
        self.wait_for(By.CSS_SELECTOR, f"{row} .badge[data-status='WORKING']")
        self.assertTrue(self.browser.execute_script("return window.stillTheSamePage === true"), "the page was reloaded")
        self.shot("chips-live-after-whago-restart")

        # Delete, with a confirmation; the chip disappears.
        self.browser.find_element(By.CSS_SELECTOR, f"{row} a").click()
        self.wait_for(By.ID, "delete").click()
        self.wait_for(By.ID, "delete-confirm")
        self.shot("delete-confirm")
        self.browser.find_element(By.ID, "delete-yes").click()
        self.wait_for(By.ID, "empty")
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, row), [])
        self.shot("deleted")
        status, _ = self.whago.api("GET", f"/api/v1/chips/{chip_id}", key)
        self.assertEqual(status, 404)

    def test_admin_creates_a_tenant_and_sees_its_key_once(self):
        receiver = Receiver()
        self.addCleanup(receiver.stop)
        self.log_in(self.whago.admin_token)
        self.wait_for(By.ID, "tenant-form")
        self.assertNotIn(self.whago.admin_token, self.browser.current_url)
        self.shot("admin")
        self.wait_for(By.ID, "tenant-name").send_keys("acme")
        self.browser.find_element(By.ID, "tenant-webhook").send_keys(receiver.url)
        self.browser.find_element(By.ID, "create-tenant").click()
        field = self.wait_for(By.CSS_SELECTOR, "#new-api-key")
        key = field.get_attribute("value")
        self.secrets.append(key)
        self.assertTrue(key)
        self.assertTrue(self.browser.find_elements(By.ID, "new-webhook-secret"), "the generated webhook secret is shown once too")
        self.shot("tenant-created-key-once")
        # The copy button puts the key on the clipboard.
        self.browser.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.whago.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        self.browser.find_element(By.XPATH, "//div[@class='copy-row'][.//input[@id='new-api-key']]//button[normalize-space()='Copy']").click()
        self.wait_until(lambda: "Copied." in self.browser.find_element(By.XPATH, "//div[@class='copy-row'][.//input[@id='new-api-key']]").text,
                        "the copy button to say it copied")
        clipboard = self.browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], (e) => arguments[0]('error: ' + e))")
        self.assertEqual(clipboard, key)
        status, account = self.whago.api("GET", "/api/v1/me", key)
        self.assertEqual((status, account["role"], account["tenant"]["name"]), (200, "tenant", "acme"))
        tenant_id = account["tenant"]["id"]
        self.wait_for(By.CSS_SELECTOR, f"tr[data-tenant-id='{tenant_id}']")
        self.browser.find_element(By.XPATH, "//button[normalize-space()='Done, hide it']").click()
        self.wait_until(lambda: key not in self.browser.page_source, "the key to be hidden")
        self.browser.refresh()
        self.wait_for(By.CSS_SELECTOR, f"tr[data-tenant-id='{tenant_id}']")
        self.assertNotIn(key, self.browser.page_source, "the key is shown again after a reload")

        # Rotate: a new key, shown once; the old one stops working.
        self.browser.find_element(By.XPATH, f"//tr[@data-tenant-id='{tenant_id}']//button[normalize-space()='Rotate key']").click()
        self.wait_until(lambda: self.browser.find_element(By.ID, "new-api-key").get_attribute("value") not in ("", key), "a new key")
        rotated = self.browser.find_element(By.ID, "new-api-key").get_attribute("value")
        self.secrets.append(rotated)
        self.assertEqual(self.whago.api("GET", "/api/v1/me", key)[0], 401)
        self.assertEqual(self.whago.api("GET", "/api/v1/me", rotated)[0], 200)
        self.shot("tenant-key-rotated")

        # Its chip's events hit a refusing webhook: dead-lettered after one attempt (webhooks.maxAttempts=1).
        status, chip = self.whago.api("POST", "/api/v1/chips", rotated, {"name": "acme-1"})
        self.assertEqual(status, 201, chip)
        letters = await_condition(lambda: [letter for letter in self.whago.api("GET", "/api/v1/dead-letters", self.whago.admin_token)[1]["deadLetters"]
                                           if letter["event"]["chip"] == chip["id"]],
                                  "a dead-lettered event of the chip")
        event_id = letters[0]["event"]["id"]
        receiver.accept()
        self.browser.refresh()
        row = self.wait_for(By.CSS_SELECTOR, f"#dead-letters tr[data-event-id='{event_id}']")
        self.assertIn("HTTP 500", row.text)
        # The tenant's worker, with its port from runtime.local.ports.
        worker = self.wait_for(By.XPATH, f"//section[@id='workers']//tr[td[@data-label='Tenant']/code[text()='{tenant_id}']]")
        self.assertIn(int(worker.find_element(By.CSS_SELECTOR, "td[data-label='Port']").text), self.whago.worker_ports)
        self.shot("dead-letters-and-workers")
        row.find_element(By.XPATH, ".//button[normalize-space()='Retry']").click()
        receiver.wait_for(event_id)
        self.shot("dead-letter-retried")

        # Delete a tenant with a confirmation.
        other = self.new_tenant("short-lived")["tenant"]["id"]
        self.browser.refresh()
        self.wait_for(By.XPATH, f"//tr[@data-tenant-id='{other}']//button[normalize-space()='Delete…']").click()
        self.wait_for(By.XPATH, f"//tr[@data-tenant-id='{other}']//button[normalize-space()='Yes, delete']").click()
        self.wait_until(lambda: not self.browser.find_elements(By.CSS_SELECTOR, f"tr[data-tenant-id='{other}']"), "the tenant's row to go")
        self.assertEqual(self.whago.api("GET", f"/api/v1/tenants/{other}", self.whago.admin_token)[0], 404)
        self.shot("tenant-deleted")


if __name__ == "__main__":
    seed = int(os.environ.get("WHAGO_TEST_SEED") or random.randrange(2 ** 32))
    print(f"console tests in a random order, seed {seed} (replay with WHAGO_TEST_SEED={seed})")
    names = unittest.TestLoader().getTestCaseNames(ConsoleTests)
    random.Random(seed).shuffle(names)
    result = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(ConsoleTests(name) for name in names))
    print(f"console screenshots: {OUTPUT}")
    sys.exit(0 if result.wasSuccessful() else 1)
