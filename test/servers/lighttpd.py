"""lighttpd 1.4 for the server tests: `lighttpd -D -f CONFIG` (foreground), configs in
scripts/lighttpd/. Interface: see harness.py."""

import shutil

import harness

BINARY = shutil.which("lighttpd") or "/usr/sbin/lighttpd"


class Server(harness.WebServer):
    name = "lighttpd"

    def command(self, config_path):
        return [BINARY, "-D", "-f", str(config_path)]


def start(config_name, fcgi=None, fcgi_procs=1, **vars):
    return Server().start(config_name, fcgi=fcgi, fcgi_procs=fcgi_procs, **vars)
