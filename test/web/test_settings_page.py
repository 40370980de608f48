#!/usr/bin/python3
"""The token settings page (web/, SPEC §15) in real headless Chromium, served by a server's
shipped configuration beside that server's Git configuration on the same database.

    /usr/bin/python3 test/web/test_settings_page.py --server lighttpd|apache|nginx [NAME_PART...]

Exit code 77 (CTest's skip) when the server, git, fcgiwrap (nginx), Chromium, chromedriver or
python3-selenium is missing. Screenshots go to GVX_WEB_SCREENSHOTS (CTest: the build tree).

- Basic login (scripts/<server>/api-basic.conf): sign in, generate a token, read it from the
  page, clone with it through git (scripts/<server>/git-everything-with-token.conf), reload
  (the token is gone from the page), revoke it through the dialog, and see git refused;
  usage and activity; disable/enable, rename; rotate (POST /rotate) at once and with a grace
  period, the permissions kept; a read-only token's push refused with 403; permissions shown
  as words; the expiry warnings; the API's errors next to their field; keyboard only; phone
  width and dark mode.
- Session cookie (api-session.conf): better-auth's cookie, and the CSRF check passed by the
  browser's own Origin header.
- After every test: nothing in the browser's console but the HTTP errors that test expects.
"""

import json
import os
import pathlib
import re
import sys
import time
import unittest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "servers"))
sys.path.insert(0, str(HERE))
import harness  # noqa: E402
import test_git  # noqa: E402
import browser as chromium  # noqa: E402

SERVER = "lighttpd"  # set from the command line in main()
SHOTS = pathlib.Path(os.environ.get("GVX_WEB_SCREENSHOTS")
                     or harness.SOURCE_DIR / "build" / "test" / "web" / "screenshots")
TOKEN_RE = re.compile(r"^gvx_[A-Za-z0-9]{64}$")
USERS = {"alice": "alice-pw"}
DAY_MS = 86_400_000
SESSION_SECRET = "better-auth-secret-for-the-page-tests-0123"
SESSION_TOKEN = "sessAlicePAGEaaaaaaaaaaaaaaaaaaa"
PAGE_HOST = "gvx.test"  # the session tests' origin: http://gvx.test, mapped to the server


def now_ms():
    return int(time.time() * 1000)


class GitSite(test_git.Site):
    """test_git's Git server and repository; the tokens come from the page."""

    def make_tokens(self):
        pass


class PageCase(unittest.TestCase):
    """One Git server, one API server with the page, one browser for the whole class."""

    config = None        # scripts/<server>/<config>.conf serving the API and the page
    host_rules = None    # Chromium --host-resolver-rules, given the API server

    @classmethod
    def setUpClass(cls):
        if cls.config is None:
            raise unittest.SkipTest("base class")
        cls.site = GitSite(SERVER, "git-everything-with-token")
        cls.addClassCleanup(cls.site.stop)
        cls.prepare_database()
        cls.site.start()
        cls.api = harness.server_module(SERVER).start(cls.config, fcgi={"API": cls.api_args()},
                                                      HTPASSWD=cls.htpasswd())
        cls.addClassCleanup(cls.api.stop)
        rules = cls.host_rules(cls.api) if cls.host_rules else None
        cls.browser = chromium.Browser(SHOTS / SERVER, host_rules=rules)
        cls.addClassCleanup(cls.browser.quit)
        cls.d = cls.browser.driver
        cls.page = chromium_page(cls.d)
        cls.secrets = []

    @classmethod
    def prepare_database(cls):
        pass

    @classmethod
    def htpasswd(cls):
        return harness.write_htpasswd(cls.site.dir / "htpasswd", USERS)

    @classmethod
    def tearDownClass(cls):
        # No token the page showed may be in any log of the servers or of gvx-fcgi.
        for secret in cls.secrets:
            harness.assert_not_logged(secret, cls.api, cls.site.srv)
        harness.assert_no_crash_reports(cls.api, cls.site.srv)

    def setUp(self):
        self.expected_console = []  # regexes of console errors this test causes on purpose
        self.browser.console_errors()  # start from an empty log

    def tearDown(self):
        unexpected = [e["message"] for e in self.browser.console_errors()
                      if not any(re.search(p, e["message"]) for p in self.expected_console)]
        self.assertEqual(unexpected, [], "console errors")

    # --- helpers ---------------------------------------------------------------------------

    def page_url(self):
        raise NotImplementedError

    def open(self):
        self.page.open(self.page_url())
        self.assertEqual(self.page.heading(), "Personal access tokens")

    def shot(self, name):
        self.browser.shot(f"{type(self).__name__.lower()}-{name}")

    def generate(self, name, **form):
        token = self.page.generate(name, **form)
        self.assertRegex(token, TOKEN_RE)
        self.secrets.append(token)
        return token

    def clone(self, token, check=True):
        dest = self.site.fresh_dir("clone")
        r = self.site.git("clone", self.site.url("alice", token), dest, check=False)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue((dest / "README").exists())
        return dest, r

    def assert_refused(self, token):
        _, r = self.clone(token, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Authentication failed", r.stderr)

    def rotate(self, name, grace=None):
        """Rotates the (newest) token called name through its row's button and the dialog,
        choosing grace ("In 1 hour", ...) if given; the new token as the page shows it."""
        before = self.page.new_token()
        self.page.button("Rotate", self.page.row(name)).click()
        self.page.wait(lambda d: self.page.dialog_open("rotate-dialog"))
        choice = self.page.select("The old token stops working")
        self.assertEqual(choice.first_selected_option.text, "At once")  # the default, each time
        if grace is not None:
            choice.select_by_visible_text(grace)
        self.page.button("Rotate", self.page.dialog("rotate-dialog")).click()
        self.page.wait(lambda d: self.page.new_token() not in ("", before)
                       and not self.page.dialog_open("rotate-dialog"), "no rotated token shown")
        rotated = self.page.new_token()
        self.assertRegex(rotated, TOKEN_RE)
        self.secrets.append(rotated)
        self.page.wait(lambda d: self.page.row(name) is not None
                       and self.page.row(name).get_attribute("data-token-id")
                       == self.newest_id_in_db(name), f"the list does not show {name!r}'s successor")
        return rotated

    def newest_id_in_db(self, name):
        with harness.sqlite(self.site.db) as c:
            row = c.execute("SELECT id FROM apikey WHERE name = ? ORDER BY created_at DESC, rowid DESC "
                            "LIMIT 1", (name,)).fetchone()
        return row[0] if row else None

    def push(self, token):
        """A commit pushed with token: git's result; main is unchanged when it is refused."""
        dest, _ = self.clone(token)
        (dest / "new-file").write_text(f"a change {time.time()}\n")
        self.site.git("-C", dest, "add", "new-file")
        self.site.git("-C", dest, "commit", "-q", "-m", "a push from the page tests")
        return self.site.git("-C", dest, "push", "origin", "HEAD:main", check=False)

    def assert_push_refused(self, token):
        before = self.site.head()
        r = self.push(token)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("403", r.stderr)
        self.assertEqual(self.site.head(), before)

    def token_row_in_db(self, name):
        with harness.sqlite(self.site.db) as c:
            return c.execute("SELECT id, user_id, enabled, expires_at, permissions FROM apikey "
                             "WHERE name = ?", (name,)).fetchall()


def chromium_page(driver):
    import page  # after the skip check in main(): it imports selenium
    return page.Page(driver)


class BasicLogin(PageCase):
    """The web server's own Basic login (api-basic.conf), as for curl -u."""

    config = "api-basic"

    @classmethod
    def api_args(cls):
        return ["--db", cls.site.db, "--trust-remote-user"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Signing in: the credentials in the URL answer the server's Basic challenge once;
        # Chromium then answers the API's challenges (same realm) with them by itself.
        url = f"http://alice:{USERS['alice']}@{harness.HOST}:{cls.api.port}/settings/tokens/"
        cls.page.open(url)

    def page_url(self):
        return self.api.url("/settings/tokens")  # the redirect to /settings/tokens/ included

    def test_a_generate_clone_reload_revoke(self):
        self.open()
        self.assertTrue(self.d.current_url.endswith("/settings/tokens/"), self.d.current_url)
        self.shot("01-signed-in")
        name = "laptop"
        token = self.generate(name)
        self.assertTrue(self.d.find_element("id", "new-token-panel").is_displayed())
        self.assertIn("you will not see it again", self.d.page_source)
        self.shot("02-new-token")
        self.assertEqual(len(self.token_row_in_db(name)), 1)

        self.clone(token)

        self.d.refresh()
        self.page.wait_loaded()
        self.assertNotIn(token, self.d.page_source)
        self.assertEqual(self.page.new_token(), "")
        row = self.page.row(name)
        self.assertIsNotNone(row)
        self.assertGreater(int(self.page.fact(row, "Requests")), 0)  # the clone's requests
        self.assertNotEqual(self.page.fact(row, "Last used"), "Never")
        self.assertTrue(self.page.fact(row, "Starts with").startswith(token[:6]))

        # Its recent activity: git's requests, allowed, from 127.0.0.1 with git's user agent.
        self.page.button("Activity", row).click()
        self.page.wait(lambda d: "Allowed" in row.find_element("css selector", ".activity").text)
        activity = row.find_element("css selector", ".activity").text
        self.assertIn("127.0.0.1", activity)
        self.assertIn("git/", activity)
        self.shot("03-activity")

        self.page.button("Revoke", row).click()
        self.page.wait(lambda d: self.page.dialog_open("revoke-dialog"))
        self.assertIn(name, self.page.dialog("revoke-dialog").text)
        self.shot("04-revoke-dialog")
        self.page.button("Revoke", self.page.dialog("revoke-dialog")).click()
        self.page.wait(lambda d: self.page.row(name) is None)
        self.assertEqual(self.token_row_in_db(name), [])
        self.assert_refused(token)

    def test_b_expiry_warnings(self):
        soon = harness.gvx_sql(self.site.db, f"SELECT gvx_create('alice', 'expires soon', "
                                             f"{now_ms() + 3 * DAY_MS}) ->> 'id';").strip()
        gone = harness.gvx_sql(self.site.db, f"SELECT gvx_create('alice', 'expired one', "
                                             f"{now_ms() + DAY_MS}) ->> 'id';").strip()
        with harness.sqlite(self.site.db) as c:
            c.execute("UPDATE apikey SET expires_at = ? WHERE id = ?", (now_ms() - DAY_MS, gone))
        self.open()
        row = self.page.row("expires soon")
        self.assertIn("Expires soon", self.page.badges(row))
        self.assertIn("In 3 days", self.page.fact(row, "Expires"))
        row = self.page.row("expired one")
        self.assertIn("Expired", self.page.badges(row))
        self.assertIn("Expired", self.page.fact(row, "Expires"))
        self.assertNotIn("Active", self.page.badges(row))
        # A 7-day token is under a week from now at once: it warns too.
        self.generate("seven days", expiration="7 days")
        self.assertIn("Expires soon", self.page.badges(self.page.row("seven days")))
        # No expiration: the form warns before anything is made.
        warning = self.d.find_element("id", "no-expiration-warning")
        self.assertFalse(warning.is_displayed())
        self.page.fill_form("forever", expiration="No expiration")
        self.assertTrue(warning.is_displayed())
        self.assertIn("until you revoke it", warning.text)
        self.shot("05-expiry")
        self.page.button("Generate token").click()
        self.page.wait(lambda d: self.page.row("forever") is not None)
        self.assertEqual(self.page.fact(self.page.row("forever"), "Expires"), "Never")
        self.assertIsNone(self.token_row_in_db("forever")[0][3])
        # A custom date: the token expires at the end of that day.
        day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 10 * 86400))
        self.generate("custom date", expiration="Custom date…", date=day)
        expires_at = self.token_row_in_db("custom date")[0][3]
        self.assertEqual(time.strftime("%Y-%m-%d", time.localtime(expires_at / 1000)), day)
        for token_id in (soon, gone):
            harness.gvx_sql(self.site.db, f"SELECT gvx_revoke('{token_id}');")

    def test_c_api_errors_next_to_their_field(self):
        self.open()
        self.expected_console.append(r"api-key/create - Failed to load resource: .* status of 400")
        self.page.fill_form("ab")
        self.page.button("Generate token").click()
        error = self.d.find_element("id", "token-name-error")
        self.page.wait(lambda d: error.is_displayed())
        self.assertEqual(error.text, "name must be 3 to 50 characters (got 2)")  # gvx-fcgi's words
        self.assertEqual(self.page.field("Name").get_attribute("aria-invalid"), "true")
        self.assertIn("token-name-error", self.page.field("Name").get_attribute("aria-describedby"))
        self.assertEqual(self.token_row_in_db("ab"), [])
        self.shot("06-field-error")
        # A custom date left empty is caught before the API is asked.
        self.page.fill_form("no date given", expiration="Custom date…")
        self.page.button("Generate token").click()
        error = self.d.find_element("id", "token-expiration-error")
        self.page.wait(lambda d: error.is_displayed())
        self.assertEqual(error.text, "Choose the expiration date.")
        self.assertEqual(self.token_row_in_db("no date given"), [])
        # Correcting it clears the errors.
        self.generate("a fine name")
        self.assertFalse(self.d.find_element("id", "token-name-error").is_displayed())

    def test_d_disable_enable_rename_rotate(self):
        self.open()
        token = self.generate("ci deploy")
        row = self.page.row("ci deploy")
        self.page.button("Disable", row).click()
        self.page.wait(lambda d: "Disabled" in self.page.badges(self.page.row("ci deploy")))
        self.assert_refused(token)
        self.page.button("Enable", self.page.row("ci deploy")).click()
        self.page.wait(lambda d: "Active" in self.page.badges(self.page.row("ci deploy")))
        self.clone(token)

        # Rename: the API's error in the dialog, next to the field; then a good name.
        self.expected_console.append(r"api-key/update - Failed to load resource: .* status of 400")
        self.page.button("Rename", self.page.row("ci deploy")).click()
        self.page.wait(lambda d: self.page.dialog_open("rename-dialog"))
        box = self.page.field("New name")
        self.assertEqual(box.get_attribute("value"), "ci deploy")
        box.clear()
        box.send_keys("x")
        self.page.button("Rename", self.page.dialog("rename-dialog")).click()
        error = self.d.find_element("id", "rename-error")
        self.page.wait(lambda d: error.is_displayed())
        self.assertIn("name must be 3 to 50 characters", error.text)
        box.clear()
        box.send_keys("ci deploy (prod)")
        self.page.button("Rename", self.page.dialog("rename-dialog")).click()
        self.page.wait(lambda d: self.page.row("ci deploy (prod)") is not None)
        self.assertIsNone(self.page.row("ci deploy"))

        # Rotate (POST /rotate), the old token stopping at once, the default: a new token with
        # the same name and permissions, shown once; the old one is gone and git refuses it.
        [(old_id, _, _, _, old_permissions)] = self.token_row_in_db("ci deploy (prod)")
        shown = self.page.fact(self.page.row("ci deploy (prod)"), "Permissions")
        self.assertEqual(shown, "Read and write, all repositories")
        rotated = self.rotate("ci deploy (prod)")
        self.assertIn("The old token has stopped working",
                      self.d.find_element("id", "new-token-note").text)
        [(new_id, _, _, _, new_permissions)] = self.token_row_in_db("ci deploy (prod)")
        self.assertNotEqual(new_id, old_id)
        self.assertEqual(new_permissions, old_permissions)
        self.assertEqual(self.page.fact(self.page.row("ci deploy (prod)"), "Permissions"), shown)
        self.assertEqual(len([r for r in self.page.rows()
                              if r.get_attribute("data-token-id") == old_id]), 0)
        self.assert_refused(token)
        self.clone(rotated)

    def test_e_keyboard_only(self):
        self.open()
        page = self.page
        # From the top of the page to the Name field, typing, choosing 7 days, generating.
        page.tab_to(lambda el: el.get_attribute("id") == "token-name")
        page.keys("keyboard token")
        page.keys(page.K.TAB)
        self.assertEqual(page.active().get_attribute("id"), "token-expiration")
        page.keys(page.K.UP)  # 30 days -> 7 days
        self.assertEqual(page.field("Expiration").get_attribute("value"), "7")
        page.tab_to(lambda el: el.text == "Generate token")
        page.keys(page.K.ENTER)
        page.wait(lambda d: page.row("keyboard token") is not None)
        token = page.new_token()
        self.assertRegex(token, TOKEN_RE)
        self.secrets.append(token)
        self.assertEqual(page.active().get_attribute("id"), "new-token-title")  # announced
        page.tab_to(lambda el: el.text == "Copy")
        page.keys(page.K.ENTER)
        page.wait(lambda d: d.find_element("id", "copy-status").text)
        self.shot("07-keyboard-generated")

        # Escape closes the dialog without revoking, and focus goes back to the button.
        page.tab_to(lambda el: el.text == "Revoke" and page.row("keyboard token")
                    .find_element("css selector", ".action-revoke") == el)
        page.keys(page.K.ENTER)
        page.wait(lambda d: page.dialog_open("revoke-dialog"))
        self.assertEqual(page.active().text, "Cancel")  # the safe choice comes first
        page.keys(page.K.ESCAPE)
        page.wait(lambda d: not page.dialog_open("revoke-dialog"))
        self.assertIsNotNone(page.row("keyboard token"))
        self.assertEqual(page.active().text, "Revoke")

        # Enter on Revoke, Tab to the dialog's Revoke, Enter.
        page.keys(page.K.ENTER)
        page.wait(lambda d: page.dialog_open("revoke-dialog"))
        page.keys(page.K.TAB)
        self.assertEqual(page.active().text, "Revoke")
        self.shot("08-keyboard-revoke")
        page.keys(page.K.ENTER)
        page.wait(lambda d: page.row("keyboard token") is None)
        self.assertEqual(page.active().get_attribute("id"), "tokens-title")
        self.assert_refused(token)

    def test_e2_every_control_has_a_name(self):
        self.open()
        self.generate("labelled")
        self.page.field("Chosen repositories").click()  # shows the repository fields too
        self.page.button("Activity", self.page.row("labelled")).click()
        self.assertEqual(self.page.unnamed_controls(), [])
        controls = self.page.named_controls()
        for expected in (("textbox", "Name"), ("combobox", "Expiration"),
                         ("radio", "Read only"), ("radio", "Read and write"),
                         ("radio", "Chosen repositories"), ("textbox", "Repositories"),
                         ("button", "Generate token"), ("button", "Copy"),
                         ("button", "Revoke"), ("button", "Rotate")):
            self.assertIn(expected, controls)
        self.page.button("Revoke", self.page.row("labelled")).click()
        self.page.wait(lambda d: self.page.dialog_open("revoke-dialog"))
        self.assertEqual(self.page.unnamed_controls(), [])
        self.page.keys(self.page.K.ESCAPE)
        self.page.wait(lambda d: not self.page.dialog_open("revoke-dialog"))
        # The rotate dialog: its grace choice is named, and reached by keyboard from Cancel.
        self.page.button("Rotate", self.page.row("labelled")).click()
        self.page.wait(lambda d: self.page.dialog_open("rotate-dialog"))
        self.assertEqual(self.page.unnamed_controls(), [])
        self.assertIn(("combobox", "The old token stops working"), self.page.named_controls())
        self.shot("14-rotate-dialog")
        self.assertEqual(self.page.active().text, "Cancel")
        self.page.shift_tab()
        self.assertEqual(self.page.active().get_attribute("id"), "rotate-grace")
        self.page.keys(self.page.K.ESCAPE)
        self.page.wait(lambda d: not self.page.dialog_open("rotate-dialog"))
        self.assertEqual(len(self.token_row_in_db("labelled")), 1)  # nothing rotated

    def test_f_phone_width_and_dark(self):
        self.d.set_window_size(390, 844)
        try:
            self.open()
            overflow = self.d.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth")
            self.assertLessEqual(overflow, 0, "the page scrolls sideways at phone width")
            self.shot("09-phone-light")
            light = self.d.execute_script("return getComputedStyle(document.body).backgroundColor")
            self.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
            dark = self.d.execute_script("return getComputedStyle(document.body).backgroundColor")
            self.assertNotEqual(light, dark)
            self.assertEqual(light, "rgb(246, 247, 249)")
            self.assertEqual(dark, "rgb(15, 18, 22)")
            self.shot("10-phone-dark")
            self.d.set_window_size(1280, 1000)
            self.shot("11-desktop-dark")
        finally:
            self.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
            self.d.set_window_size(1280, 1000)

    def test_h_states_made_elsewhere_show(self):
        # Tokens changed outside the page (the sqlite3 shell, another client) show as they are.
        made = {}
        markup = '<img src=x onerror="document.title=1"><b>x</b>'
        for name, expires in (("CI pipeline", now_ms() + 2 * DAY_MS),
                              ("old laptop", now_ms() + 60 * DAY_MS), ("backup job", None),
                              (markup, None)):
            expiry = "NULL" if expires is None else str(expires)
            made[name] = harness.gvx_sql(self.site.db, f"SELECT gvx_create('alice', '{name}', "
                                                       f"{expiry}) ->> 'id';").strip()
        scoped = '{"repo:alice/project":["read","write"],"repo:alice/docs":["read"]}'
        made["scoped"] = harness.gvx_sql(self.site.db, f"SELECT gvx_create('alice', 'scoped', "
                                                       f"NULL, NULL, NULL, '{scoped}') ->> 'id';"
                                         ).strip()
        with harness.sqlite(self.site.db) as c:
            c.execute("UPDATE apikey SET enabled = 0 WHERE id = ?", (made["old laptop"],))
        self.open()
        # Permissions read as words: NULL (made before permissions, or by better-auth) is what
        # such a token may do; repositories are named, grouped by what it may do with them.
        self.assertEqual(self.page.fact(self.page.row("backup job"), "Permissions"),
                         "Read and write, all repositories")
        self.assertEqual(self.page.fact(self.page.row("scoped"), "Permissions"),
                         "Read and write: alice/project; read only: alice/docs")
        token = self.generate("deploy key", permissions="Read only")
        self.clone(token)
        self.d.refresh()
        self.page.wait_loaded()
        row = self.page.row("old laptop")
        self.assertIn("Disabled", self.page.badges(row))
        self.page.button("Enable", row)  # the toggle offers the way back
        self.assertIn("Expires soon", self.page.badges(self.page.row("CI pipeline")))
        self.assertEqual(self.page.fact(self.page.row("backup job"), "Expires"), "Never")
        # A name is text, never markup: shown as typed, and nothing of it runs.
        row = self.page.row(markup)
        self.assertIsNotNone(row, [r.text for r in self.page.rows()])
        self.assertEqual(row.find_elements("css selector", "img, b"), [])
        self.assertNotEqual(self.d.title, "1")
        harness.gvx_sql(self.site.db, f"SELECT gvx_revoke('{made.pop(markup)}');")
        self.d.refresh()
        self.page.wait_loaded()
        row = self.page.row("deploy key")
        self.page.button("Activity", row).click()
        self.page.wait(lambda d: "Allowed" in row.find_element("css selector", ".activity").text)
        self.shot("00-overview")
        for token_id in made.values():
            harness.gvx_sql(self.site.db, f"SELECT gvx_revoke('{token_id}');")

    def test_g_read_only_token_cannot_push(self):
        self.open()
        token = self.generate("read only", permissions="Read only")
        self.assertEqual(self.page.fact(self.page.row("read only"), "Permissions"),
                         "Read only, all repositories")
        self.assertEqual(json.loads(self.token_row_in_db("read only")[0][4]), {"repo": ["read"]})
        self.clone(token)
        self.assert_push_refused(token)  # 403: known, but not allowed to push
        # The refusal is in the token's activity, as the page shows it.
        self.d.refresh()
        self.page.wait_loaded()
        row = self.page.row("read only")
        self.page.button("Activity", row).click()
        self.page.wait(lambda d: "Refused: not permitted"
                       in row.find_element("css selector", ".activity").text)
        # A read-and-write token made the same way pushes: the 403 was the permission's doing.
        writer = self.generate("read and write", permissions="Read and write")
        r = self.push(writer)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_i_rotate_with_grace_keeps_the_permissions(self):
        self.open()
        # Chosen repositories, read only: the one this site serves and one it does not.
        self.page.fill_form("deploy (rotating)", permissions="Chosen repositories",
                            repos="project\nalice/elsewhere")
        self.page.select("Access to these repositories").select_by_visible_text("Read only")
        self.page.button("Generate token").click()
        self.page.wait(lambda d: self.page.row("deploy (rotating)") is not None)
        token = self.page.new_token()
        self.assertRegex(token, TOKEN_RE)
        self.secrets.append(token)
        shown = self.page.fact(self.page.row("deploy (rotating)"), "Permissions")
        self.assertEqual(shown, "Read only: project, alice/elsewhere")
        [(old_id, _, _, _, stored)] = self.token_row_in_db("deploy (rotating)")
        self.assertEqual(json.loads(stored), {"repo:project": ["read"],
                                              "repo:alice/elsewhere": ["read"]})
        self.clone(token)

        # Rotate, the old one working for one more hour.
        started = now_ms()
        rotated = self.rotate("deploy (rotating)", grace="In 1 hour")
        self.shot("13-rotated-with-grace")
        note = self.d.find_element("id", "new-token-note").text
        self.assertIn("The old token keeps working until", note)
        self.assertIn("in 1 hour", note)
        rows = {r[0]: r for r in self.token_row_in_db("deploy (rotating)")}
        self.assertEqual(len(rows), 2)
        new_id = next(i for i in rows if i != old_id)
        self.assertEqual(rows[new_id][4], stored)  # the same permissions, as stored
        self.assertTrue(started + 3_600_000 <= rows[old_id][3] <= now_ms() + 3_600_000,
                        rows[old_id])
        # Both listed with the same permissions; the old one marked as expiring within the hour.
        listed = {r.get_attribute("data-token-id"): r for r in self.page.rows()}
        self.assertEqual(self.page.fact(listed[new_id], "Permissions"), shown)
        self.assertEqual(self.page.fact(listed[old_id], "Permissions"), shown)
        self.assertIn("Expires soon", self.page.badges(listed[old_id]))
        self.assertIn("In 1 hour", self.page.fact(listed[old_id], "Expires"))

        # During the grace both clone; the new one is read only too: its push gets 403.
        self.clone(token)
        self.clone(rotated)
        self.assert_push_refused(rotated)

        # The end of the grace (its hour moved into the past): git refuses the old token, the
        # new one still clones, and the page shows the old one as expired.
        with harness.sqlite(self.site.db) as c:
            c.execute("UPDATE apikey SET expires_at = ? WHERE id = ?", (now_ms() - 1000, old_id))
        self.assert_refused(token)
        self.clone(rotated)
        self.d.refresh()
        self.page.wait_loaded()
        listed = {r.get_attribute("data-token-id"): r for r in self.page.rows()}
        self.assertIn("Expired", self.page.badges(listed[old_id]))
        self.assertIn("Active", self.page.badges(listed[new_id]))
        for token_id in (old_id, new_id):
            harness.gvx_sql(self.site.db, f"SELECT gvx_revoke('{token_id}');")


class SessionCookie(PageCase):
    """better-auth's session cookie (api-session.conf): the page at http://gvx.test, which
    gvx-fcgi trusts as an origin; Chromium sends that Origin with each POST."""

    config = "api-session"

    @staticmethod
    def host_rules(api):
        return f"MAP {PAGE_HOST}:80 {harness.HOST}:{api.port}"

    @classmethod
    def prepare_database(cls):
        fixture = harness.SOURCE_DIR / "test" / "fixtures" / "gitflare.sql"
        with harness.sqlite(cls.site.db) as c:
            c.executescript(fixture.read_text())
            c.execute("INSERT INTO session (id, expires_at, token, created_at, updated_at, "
                      "user_id) VALUES ('page-session', ?, ?, 0, 0, 'u_alice')",
                      (now_ms() + 3_600_000, SESSION_TOKEN))
        secret = cls.site.dir / "session-secret"
        secret.write_text(SESSION_SECRET + "\n")
        cls.secret_file = secret

    @classmethod
    def api_args(cls):
        return ["--db", cls.site.db, "--session-secret-file", cls.secret_file,
                "--trusted-origin", f"http://{PAGE_HOST}"]

    def page_url(self):
        return f"http://{PAGE_HOST}/settings/tokens"

    def test_a_signed_out_then_in_by_cookie(self):
        self.expected_console.append(r"api-key/list - Failed to load resource: .* status of 401")
        self.d.delete_all_cookies()
        self.open()
        status = self.d.find_element("id", "page-status")
        self.assertTrue(status.is_displayed())
        self.assertIn("not signed in", status.text)

        self.d.add_cookie({"name": "better-auth.session_token", "path": "/",
                           "value": harness.sign_cookie(SESSION_TOKEN, SESSION_SECRET)})
        self.open()
        self.assertFalse(self.d.find_element("id", "page-status").is_displayed())
        # Gitflare's own token of alice's, made by better-auth, is listed with the rest; its
        # permissions are NULL: read and write, everywhere.
        self.assertIsNotNone(self.page.row("CI"))
        self.assertEqual(self.page.fact(self.page.row("CI"), "Permissions"),
                         "Read and write, all repositories")
        token = self.generate("made with a cookie")  # a POST: the CSRF check passed
        self.assertEqual(self.token_row_in_db("made with a cookie")[0][1], "u_alice")
        self.shot("12-session")
        self.clone(token)
        self.page.revoke("made with a cookie")
        self.assert_refused(token)


def main():
    global SERVER
    args = sys.argv[1:]
    if args and args[0] == "--server":
        args.pop(0)
    if not args or args[0] not in ("lighttpd", "apache", "nginx"):
        print(f"usage: {sys.argv[0]} --server lighttpd|apache|nginx [NAME_PART...]",
              file=sys.stderr)
        return 2
    SERVER = args.pop(0)
    needed = [harness.server_module(SERVER).BINARY, test_git.GIT]
    if SERVER == "nginx":
        needed.append(test_git.FCGIWRAP)
    lacks = [p for p in needed if not os.access(p, os.X_OK)] + chromium.missing()
    if lacks:
        print(f"skipped: not installed: {', '.join(lacks)}", file=sys.stderr)
        return 77
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in (BasicLogin, SessionCookie))
    if args:
        suite = unittest.TestSuite(t for s in suite for t in s if any(a in t.id() for a in args))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1

if __name__ == "__main__":
    sys.exit(main())
