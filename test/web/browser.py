"""Headless Chromium for the settings-page tests, through Debian's chromedriver and
python3-selenium (run these tests with /usr/bin/python3, which has the selenium module).

    b = Browser(shots_dir, host_rules="MAP gvx.test:80 127.0.0.1:PORT")   # rules optional
    b.driver                  # a selenium WebDriver
    b.shot("name")            # PNG under shots_dir
    b.console_errors()        # SEVERE entries of the browser log since the last call
    b.quit()                  # also removes its fresh profile directory

Missing pieces make the test skip (exit 77) rather than fail: see missing().
"""

import os
import pathlib
import shutil
import tempfile

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def missing():
    """What this machine lacks to run the browser tests (empty when nothing)."""
    lacks = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        lacks.append("the selenium module (python3-selenium, for /usr/bin/python3)")
    return lacks


class Browser:
    def __init__(self, shots_dir, host_rules=None, width=1280, height=1000):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="gvx-chromium-")
        self.shots_dir = pathlib.Path(shots_dir)
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--no-proxy-server",
                    "--disable-features=HttpsUpgrades,Translate,MediaRouter",
                    "--password-store=basic", f"--user-data-dir={self.profile}",
                    f"--window-size={width},{height}", "--lang=en-US"):
            options.add_argument(arg)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to run as root otherwise
        if host_rules:
            options.add_argument(f"--host-resolver-rules={host_rules}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(CHROMEDRIVER)
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except BaseException:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)

    def shot(self, name):
        """The whole page (not only the window) as shots_dir/name.png."""
        import base64
        path = self.shots_dir / f"{name}.png"
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        data = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1}})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def console_errors(self):
        """SEVERE browser-log entries since the last call (the log is drained by reading)."""
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

