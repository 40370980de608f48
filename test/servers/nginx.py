"""nginx for the server tests: `nginx -p STATE_DIR -e STATE_DIR/error.log -c CONFIG` with
`daemon off;` in the config, configs in scripts/nginx/. As root the worker runs as www-data
(the harness's USER/GROUP). Interface: harness.py."""

import shutil

import harness

BINARY = shutil.which("nginx") or "/usr/sbin/nginx"


class Server(harness.WebServer):
    name = "nginx"

    def command(self, config_path):
        return [BINARY, "-p", str(self.state_dir), "-e", str(self.state_dir / "error.log"),
                "-c", str(config_path)]


def start(config_name, fcgi=None, fcgi_procs=1, **vars):
    return Server().start(config_name, fcgi=fcgi, fcgi_procs=fcgi_procs, **vars)
