"""The sqlite3 shell with gvx.so loaded, driven one statement at a time from a test.

    sh = Shell(sqlite3_binary, db, ext)     # .load ext
    out = sh.run("SELECT gvx_revoke('id');")  # -> list of output lines (errors included)
    sh.close()

Output is line-buffered through stdbuf, and each statement is followed by a marker query, so
run() returns exactly that statement's output, shell errors ("Runtime error: ...") included.
"""
import shutil
import subprocess


class ShellError(Exception):
    pass


class Shell:
    def __init__(self, sqlite3, db, ext, timeout=30.0):
        ext_base = ext[:-3] if ext.endswith(".so") else ext
        cmd = [sqlite3, "-batch", db]
        if shutil.which("stdbuf"):
            cmd = ["stdbuf", "-oL", "-eL"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.n = 0
        self.timeout = timeout
        out = self.run(f".load {ext_base}")
        if out:
            raise ShellError(f".load failed: {out}")

    @property
    def pid(self):
        return self.proc.pid

    def run(self, statement):
        self.n += 1
        marker = f"--gvx-end-{self.n}--"
        self.proc.stdin.write(f"{statement}\n.print {marker}\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise ShellError(f"sqlite3 exited ({self.proc.poll()}); output so far: {lines}")
            line = line.rstrip("\n")
            if line == marker:
                return lines
            lines.append(line)

    def close(self, timeout=20.0):
        """Ends the shell with .quit; returns its exit status (non-zero on a sanitizer report)."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(".quit\n")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "timeout"
        rest = self.proc.stdout.read() if self.proc.stdout else ""
        self.trailing_output = rest
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
