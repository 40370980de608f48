"""Apache 2.4 for the server tests: `apache2 -DFOREGROUND -f CONFIG`, configs in
scripts/apache/. Modules are loaded from APACHE_MODULES; as root the workers run as
www-data (the harness's USER/GROUP), so state dirs are world-readable. Interface: harness.py."""

import os
import shutil

import harness

BINARY = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"


class Server(harness.WebServer):
    name = "apache"

    def extra_vars(self):
        return {"APACHE_MODULES": MODULES}

    def command(self, config_path):
        return [BINARY, "-DFOREGROUND", "-f", str(config_path)]

    def environment(self):
        # Debian's apache2 reads these from /etc/apache2/envvars when started by apache2ctl.
        env = dict(os.environ)
        env.setdefault("APACHE_RUN_DIR", str(self.state_dir))
        env.setdefault("APACHE_LOG_DIR", str(self.state_dir))
        env.setdefault("APACHE_LOCK_DIR", str(self.state_dir))
        return env


def start(config_name, fcgi=None, fcgi_procs=1, **vars):
    return Server().start(config_name, fcgi=fcgi, fcgi_procs=fcgi_procs, **vars)
