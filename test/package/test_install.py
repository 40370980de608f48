#!/usr/bin/env python3
"""`make install`'s step, `cmake --install --strip` with DESTDIR: every file gvx ships lands
under DESTDIR and the configured prefix, programs and extension stripped, units and cron file
naming the installed programs.

Run by CTest with --build (the build tree), --prefix (its CMAKE_INSTALL_PREFIX), --cmake.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None


class Install(unittest.TestCase):
    def setUp(self):
        self.destdir = tempfile.mkdtemp(prefix="gvx-install-")
        env = dict(os.environ, DESTDIR=self.destdir)
        r = subprocess.run([ARGS.cmake, "--install", ARGS.build, "--strip"], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def tearDown(self):
        shutil.rmtree(self.destdir, ignore_errors=True)

    def path(self, p):
        return os.path.join(self.destdir, p.lstrip("/"))

    def test_everything_is_installed_under_destdir_and_stripped(self):
        prefix = ARGS.prefix
        etc = "/etc" if prefix == "/usr" else prefix + "/etc"
        units = "/lib/systemd/system" if prefix == "/usr" else prefix + "/lib/systemd/system"
        expected = [f"{prefix}/bin/gvx", f"{prefix}/bin/gvx-fcgi", f"{prefix}/sbin/gvx-cleanup",
                    f"{prefix}/lib/gvx/gvx.so", f"{prefix}/share/man/man1/gvx.1",
                    f"{prefix}/share/man/man1/gvx-fcgi.1", f"{prefix}/share/man/man7/gvx.7",
                    f"{prefix}/share/man/man8/gvx-cleanup.8", f"{prefix}/share/gvx/render-config",
                    f"{prefix}/share/gvx/nginx", f"{prefix}/share/gvx/apache",
                    f"{prefix}/share/gvx/lighttpd", f"{prefix}/share/gvx/errors/status-503.html",
                    f"{prefix}/share/gvx/cgi-without-credentials",
                    f"{prefix}/share/gvx/nginx/site.conf", f"{prefix}/share/gvx/apache/site.conf",
                    f"{prefix}/share/gvx/lighttpd/site.conf",
                    f"{prefix}/share/doc/gvx/README.md", f"{etc}/default/gvx",
                    f"{etc}/cron.d/gvx-cleanup", f"{units}/gvx-fcgi.socket",
                    f"{units}/gvx-fcgi.service", f"{units}/gvx-cleanup.service",
                    f"{units}/gvx-cleanup.timer"]
        for p in expected:
            self.assertTrue(os.path.exists(self.path(p)), p)
        for p in ("bin/gvx", "bin/gvx-fcgi", "lib/gvx/gvx.so"):
            sections = subprocess.run(["readelf", "-S", "-W", self.path(f"{prefix}/{p}")],
                                      capture_output=True, text=True, check=True).stdout
            self.assertNotIn(".symtab", sections, p)
        service = open(self.path(f"{units}/gvx-fcgi.service")).read()
        self.assertIn(f"ExecStart={prefix}/bin/gvx-fcgi --db /var/lib/gvx/gvx.db", service)
        self.assertIn(f"EnvironmentFile=-{etc}/default/gvx", service)
        cleanup = open(self.path(f"{units}/gvx-cleanup.service")).read()
        self.assertIn(f"ExecStart={prefix}/sbin/gvx-cleanup /var/lib/gvx/gvx.db", cleanup)
        cron = open(self.path(f"{etc}/cron.d/gvx-cleanup")).read()
        self.assertIn(f"{prefix}/sbin/gvx-cleanup /var/lib/gvx/gvx.db", cron)
        self.assertNotIn("/var/log", cron)
        self.assertNotIn("@GVX_", cron + service + cleanup)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--cmake", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
