"""The token settings page as a test sees it: the automation hooks of SPEC §15 (a heading
"Personal access tokens", fields labelled "Name" and "Expiration", a "Generate token" button,
data-testid="new-token", data-testid="token-row" with a "Revoke" button that opens a native
<dialog> whose confirming button is "Revoke"), and keyboard helpers."""

import time

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 20  # seconds: the machine is shared and slow at times


class Page:
    K = Keys

    def __init__(self, driver):
        self.d = driver

    # --- waiting ---------------------------------------------------------------------------

    def wait(self, condition, message="", timeout=WAIT):
        def safe(driver):
            try:
                return condition(driver)
            except (NoSuchElementException, StaleElementReferenceException):
                return False
        return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(safe, message)

    def open(self, url):
        self.d.get(url)
        self.wait_loaded()

    def wait_loaded(self):
        """Until the list has been fetched and drawn (or the page says why it could not)."""
        self.wait(lambda d: d.find_element(By.ID, "token-count").text
                  or d.find_element(By.ID, "page-status").is_displayed(),
                  "the page never showed the token list")

    # --- the hooks -------------------------------------------------------------------------

    def heading(self):
        return self.d.find_element(By.TAG_NAME, "h1").text

    def field(self, label):
        """The control a <label> with exactly this text names."""
        lab = self.d.find_element(By.XPATH, f"//label[normalize-space()='{label}']")
        return self.d.find_element(By.ID, lab.get_attribute("for"))

    def button(self, text, within=None):
        return (within or self.d).find_element(By.XPATH, f".//button[normalize-space()='{text}']")

    def rows(self):
        return self.d.find_elements(By.CSS_SELECTOR, '[data-testid="token-row"]')

    def row(self, name):
        """The token-row whose name is exactly name, or None."""
        for r in self.rows():
            if r.find_element(By.CSS_SELECTOR, ".token-name").text == name:
                return r
        return None

    def select(self, label):
        """The <select> a label names, as selenium's Select."""
        return Select(self.field(label))

    def fact(self, row, label):
        return row.find_element(By.XPATH, f".//dt[normalize-space()='{label}']/../dd").text

    def badges(self, row):
        return [b.text for b in row.find_elements(By.CSS_SELECTOR, ".badge")]

    def new_token(self):
        return self.d.find_element(By.CSS_SELECTOR, '[data-testid="new-token"]').text

    def dialog(self, dialog_id):
        return self.d.find_element(By.ID, dialog_id)

    def dialog_open(self, dialog_id):
        return self.d.execute_script("return document.getElementById(arguments[0]).open",
                                     dialog_id)

    def unnamed_controls(self):
        """Controls in Chromium's accessibility tree without an accessible name: what a screen
        reader would announce as a bare "button" or "edit text"."""
        roles = {"button", "textbox", "combobox", "radio", "checkbox", "link", "listbox"}
        tree = self.d.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
        return [n for n in tree if not n.get("ignored")
                and n.get("role", {}).get("value") in roles
                and not str(n.get("name", {}).get("value", "")).strip()]

    def named_controls(self):
        """[(role, name)] of the controls in the accessibility tree."""
        roles = {"button", "textbox", "combobox", "radio", "checkbox", "link", "listbox"}
        tree = self.d.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
        return [(n["role"]["value"], n.get("name", {}).get("value")) for n in tree
                if not n.get("ignored") and n.get("role", {}).get("value") in roles]

    # --- actions ---------------------------------------------------------------------------

    def fill_form(self, name, expiration="30 days", permissions=None, date=None, repos=None):
        box = self.field("Name")
        box.clear()
        box.send_keys(name)
        Select(self.field("Expiration")).select_by_visible_text(expiration)
        if date is not None:
            self.d.execute_script("arguments[0].value = arguments[1]",
                                  self.field("Expiration date"), date)
        if permissions is not None:
            self.field(permissions).click()
        if repos is not None:
            self.field("Repositories").send_keys(repos)

    def generate(self, name, **form):
        """Fills and submits the form; the new token as the page shows it."""
        before = self.new_token()
        self.fill_form(name, **form)
        self.button("Generate token").click()
        self.wait(lambda d: self.new_token() and self.new_token() != before,
                  f"no new token shown for {name!r}")
        self.wait(lambda d: self.row(name) is not None, f"no row for {name!r}")
        return self.new_token()

    def revoke(self, name):
        """Revoke through the row's button and the dialog's confirming button."""
        self.button("Revoke", self.row(name)).click()
        self.wait(lambda d: self.dialog_open("revoke-dialog"), "the revoke dialog did not open")
        dialog = self.dialog("revoke-dialog")
        assert dialog.tag_name == "dialog"
        self.button("Revoke", dialog).click()
        self.wait(lambda d: self.row(name) is None and not self.dialog_open("revoke-dialog"),
                  f"{name!r} is still listed")

    # --- keyboard --------------------------------------------------------------------------

    def active(self):
        return self.d.switch_to.active_element

    def keys(self, *keys):
        ActionChains(self.d).send_keys(*keys).perform()

    def shift_tab(self):
        ActionChains(self.d).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()

    def focus_outline(self):
        """(outline-style, outline-width in px) of the focused element."""
        style, width = self.d.execute_script(
            "const s = getComputedStyle(document.activeElement);"
            "return [s.outlineStyle, parseFloat(s.outlineWidth) || 0];")
        return style, width

    def tab_to(self, matches, limit=120):
        """Presses Tab until matches(active element) is true; every element passed on the way
        must show a visible focus outline. Returns the number of Tab presses."""
        for presses in range(1, limit + 1):
            self.keys(Keys.TAB)
            time.sleep(0.02)
            el = self.active()
            style, width = self.focus_outline()
            if el.tag_name != "body":
                assert style != "none" and width >= 2, \
                    f"no visible focus on <{el.tag_name}> {el.text!r}: {style} {width}px"
            if matches(el):
                return presses
        raise AssertionError(f"Tab never reached the element after {limit} presses")
