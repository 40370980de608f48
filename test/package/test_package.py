#!/usr/bin/env python3
"""The Debian package, installed for real: `make deb` (scripts/make-deb), `dpkg -i`, the
installed programs, extension, man pages and units, the admin command against a database,
`systemd-analyze verify` and `security`, lintian, then `dpkg -r` and `dpkg --purge`.

Needs root (it installs the package on this machine, as CI does on its fresh one); exits 77
(skipped) otherwise. Installs are serialised by a lock, so the test may run twice at once.
Run by CTest with --source (the tree to package) and --work (a scratch directory);
GVX_DEB=path uses an already built package instead.
"""
import argparse
import fcntl
import gzip
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

ARGS = None
DEB = None
SKIP = 77
LOCK = "/run/lock/gvx-package-test.lock"

PROGRAMS = ["/usr/bin/gvx", "/usr/bin/gvx-fcgi", "/usr/sbin/gvx-cleanup"]
ELF = ["/usr/bin/gvx", "/usr/bin/gvx-fcgi", "/usr/lib/gvx/gvx.so"]
MAN_PAGES = ["/usr/share/man/man1/gvx.1.gz", "/usr/share/man/man1/gvx-fcgi.1.gz",
             "/usr/share/man/man7/gvx.7.gz", "/usr/share/man/man8/gvx-cleanup.8.gz"]
UNITS = ["gvx-fcgi.socket", "gvx-fcgi.service", "gvx-cleanup.service", "gvx-cleanup.timer"]
UNIT_DIR = "/lib/systemd/system"
CONFFILES = ["/etc/default/gvx", "/etc/cron.d/gvx-cleanup"]


def run(*cmd, stdin=None, check=True, env=None, timeout=300):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def package_version(deb):
    return run("dpkg-deb", "-f", deb, "Version").stdout.strip()


class InstalledPackage(unittest.TestCase):
    """One install, many checks, then removal; all under the lock."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(os.path.dirname(LOCK), exist_ok=True)
        cls.lock = open(LOCK, "w")
        fcntl.flock(cls.lock, fcntl.LOCK_EX)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cls.install = run("dpkg", "-i", DEB, env=env)
        cls.dir = tempfile.mkdtemp(prefix="gvx-package-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        # Leave the machine as it was, whatever happened above.
        run("dpkg", "--purge", "gvx", check=False)
        fcntl.flock(cls.lock, fcntl.LOCK_UN)
        cls.lock.close()

    def test_1_programs_extension_and_man_pages_are_installed(self):
        for path in PROGRAMS:
            self.assertTrue(os.access(path, os.X_OK), path)
        for path in ELF:
            # Stripped: no symbol table, no debug information left in the package.
            sections = run("readelf", "-S", "-W", path).stdout
            self.assertNotIn(".symtab", sections, path)
            self.assertNotIn(".debug_info", sections, path)
        for path in MAN_PAGES:
            with gzip.open(path, "rt") as f:
                self.assertTrue(f.read().startswith(".TH "), path)
            if shutil.which("man"):
                page = run("man", "-l", path, env=dict(os.environ, MANWIDTH="80")).stdout
                self.assertIn("NAME", page)
        for name in ("apache", "lighttpd", "nginx", "errors"):
            self.assertTrue(os.listdir(f"/usr/share/gvx/{name}"), name)
        self.assertTrue(os.access("/usr/share/gvx/render-config", os.X_OK))
        if os.path.isdir(os.path.join(ARGS.source, "web")):
            self.assertTrue(os.path.isfile("/usr/share/gvx/web/index.html"))
        for path in CONFFILES:
            self.assertTrue(os.path.isfile(path), path)
        # run-parts and cron skip file names with a dot.
        self.assertNotIn(".", os.path.basename("/etc/cron.d/gvx-cleanup"))

    def test_1b_each_servers_site_configuration_renders_and_passes_its_check(self):
        # The installed site.conf templates, filled by the installed render-config with the
        # installed paths, as README "Web server configuration" shows, are valid for the real
        # servers (their own syntax checks; test/servers runs them).
        self.assertTrue(os.access("/usr/share/gvx/cgi-without-credentials", os.X_OK))
        state = os.path.join(self.dir, "site")
        os.makedirs(state, exist_ok=True)
        values = {"HOST": "127.0.0.1", "PORT": "8080", "STATE_DIR": state,
                  "ERRORS_DIR": "/usr/share/gvx/errors", "WEB_DIR": "/usr/share/gvx/web",
                  "SCRIPTS_DIR": "/usr/share/gvx", "USER": "www-data", "GROUP": "www-data",
                  "HTPASSWD": os.path.join(state, "htpasswd"), "REPOS": state,
                  "API_SOCKET": "/run/gvx/gvx-fcgi.sock", "AUTH_ADDR": "127.0.0.1:9001",
                  "GIT_CGI_ADDR": "unix:/run/fcgiwrap.socket",
                  "APACHE_MODULES": "/usr/lib/apache2/modules",
                  "API_CMD": "/usr/bin/gvx-fcgi --db /var/lib/gvx/gvx.db --trust-remote-user",
                  "AUTH_CMD": "/usr/bin/gvx-fcgi --db /var/lib/gvx/gvx.db"}
        checks = {"lighttpd": ["lighttpd", "-tt", "-f"], "apache": ["apache2", "-t", "-f"],
                  "nginx": ["nginx", "-t", "-p", state, "-e", os.path.join(state, "e.log"),
                            "-c"]}
        for server, check in checks.items():
            with self.subTest(server=server):
                template = f"/usr/share/gvx/{server}/site.conf"
                wanted = set(re.findall(r"@([A-Z][A-Z0-9_]*)@", open(template).read()))
                r = run("/usr/share/gvx/render-config", template,
                        *[f"{k}={values[k]}" for k in sorted(wanted)])
                conf = os.path.join(state, f"{server}.conf")
                with open(conf, "w") as f:
                    f.write(r.stdout)
                if shutil.which(check[0]) is None:
                    continue  # the server tests skip too where a server is missing
                run(*check, conf)

    def test_2_versions(self):
        version = package_version(DEB)
        self.assertRegex(run("/usr/bin/gvx", "--version").stdout, rf"^gvx {re.escape(version)} ")
        r = run("/usr/bin/gvx-fcgi", "--version")
        self.assertRegex(r.stdout, rf"^gvx-fcgi {re.escape(version)} ")

    def test_3_service_user_and_state_directory(self):
        user = pwd.getpwnam("gvx")
        st = os.stat("/var/lib/gvx")
        self.assertEqual((st.st_uid, st.st_gid), (user.pw_uid, user.pw_gid))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o750)
        self.assertIn(user.pw_shell, ("/usr/sbin/nologin", "/bin/false"))

    def test_4_admin_command_extension_and_cleanup_on_a_database(self):
        db = os.path.join(self.dir, "gvx.db")
        r = run("/usr/bin/gvx", "create", "--db", db, "--user", "alice", "--name", "laptop")
        token = r.stdout.strip()
        self.assertRegex(token, r"^gvx_[A-Za-z0-9]{64}$")
        listed = json.loads(run("/usr/bin/gvx", "list", "--db", db, "--json").stdout)
        self.assertEqual([(t["userId"], t["name"]) for t in listed], [("alice", "laptop")])
        found = run("/usr/bin/gvx", "find", "--db", db, stdin=token + "\n").stdout
        self.assertIn("owner      alice", found)
        self.assertIn(listed[0]["id"], found)
        # The extension by its documented path, in the sqlite3 shell.
        verify = run("sqlite3", db, ".load /usr/lib/gvx/gvx", f"SELECT gvx_verify('{token}')")
        self.assertEqual(verify.stdout.strip(), "alice")
        # gvx-cleanup finds the installed extension by itself.
        cleanup = run("/usr/sbin/gvx-cleanup", "--dry-run", db,
                      env={k: v for k, v in os.environ.items() if k != "GVX_EXT"})
        self.assertIn("gvx-cleanup", cleanup.stdout + cleanup.stderr)
        self.assertEqual(run("/usr/bin/gvx", "revoke", "--db", db, listed[0]["id"]).stdout,
                         f"revoked {listed[0]['id']}\n")
        gone = run("/usr/bin/gvx", "find", "--db", db, stdin=token, check=False)
        self.assertEqual(gone.returncode, 1, gone.stderr)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_5_units_verify_and_are_hardened(self):
        paths = [os.path.join(UNIT_DIR, u) for u in UNITS]
        r = run("systemd-analyze", "verify", *paths, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(UNIT_DIR, "gvx-fcgi.socket")) as f:
            socket = f.read()
        self.assertIn("SocketMode=0660", socket)
        self.assertIn("SocketGroup=www-data", socket)
        for service in ("gvx-fcgi.service", "gvx-cleanup.service"):
            r = run("systemd-analyze", "security", "--offline=true",
                    os.path.join(UNIT_DIR, service), check=False)
            m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
            self.assertIsNotNone(m, r.stdout + r.stderr)
            self.assertLess(float(m.group(1)), 2.0, f"{service}: {m.group(0)}")

    @unittest.skipUnless(shutil.which("lintian"), "lintian is not installed")
    def test_6_lintian_finds_no_errors(self):
        r = run("lintian", "--no-tag-display-limit", DEB, check=False)
        errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [], r.stdout)

    def test_7_remove_then_purge(self):
        run("dpkg", "-r", "gvx")
        for path in PROGRAMS + ELF + MAN_PAGES + [os.path.join(UNIT_DIR, u) for u in UNITS]:
            self.assertFalse(os.path.exists(path), path)
        for path in CONFFILES:  # configuration stays until purge, as dpkg -r intends
            self.assertTrue(os.path.exists(path), path)
        run("dpkg", "--purge", "gvx")
        for path in CONFFILES:
            self.assertFalse(os.path.exists(path), path)
        self.assertIn("not installed",
                      run("dpkg-query", "-W", "-f=${db:Status-Status}", "gvx",
                          check=False).stdout + "not installed")


def build_package():
    if os.environ.get("GVX_DEB"):
        return os.environ["GVX_DEB"]
    out = os.path.join(ARGS.work, "deb")
    r = run("bash", os.path.join(ARGS.source, "scripts", "make-deb"), out, timeout=1200)
    return r.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--work", required=True)
    ARGS, rest = parser.parse_known_args()
    if os.geteuid() != 0 or not shutil.which("dpkg"):
        print("skipped: installing the package needs root on a Debian system")
        sys.exit(SKIP)
    if not shutil.which("dpkg-buildpackage") and not os.environ.get("GVX_DEB"):
        print("dpkg-buildpackage is missing: run scripts/install-deps")
        sys.exit(1)
    DEB = build_package()
    print(f"package: {DEB}")
    sys.exit(0 if unittest.main(argv=[sys.argv[0], *rest], verbosity=2, exit=False)
             .result.wasSuccessful() else 1)
