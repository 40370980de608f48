"""The programs under test and the tree's directories. The environment names the programs
(CTest sets them; the defaults suit a `build/` tree):

    GVX_FCGI     gvx-fcgi                     (default: <repo>/build/fcgi/gvx-fcgi)
    GVX_EXT      gvx.so                       (default: <repo>/build/gvx.so)
    SQLITE3      the sqlite3 shell            (default: sqlite3 on PATH)
    GVX_KEEP_TMP=1   keep temporary directories (printed) for debugging
"""
import os
import pathlib
import shutil

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[3]
SCRIPTS_DIR = SOURCE_DIR / "scripts"
HOST = "127.0.0.1"
GVX_FCGI = os.environ.get("GVX_FCGI") or str(SOURCE_DIR / "build" / "fcgi" / "gvx-fcgi")
GVX_EXT = os.environ.get("GVX_EXT") or str(SOURCE_DIR / "build" / "gvx.so")
SQLITE3 = os.environ.get("SQLITE3") or shutil.which("sqlite3") or "sqlite3"
KEEP_TMP = os.environ.get("GVX_KEEP_TMP") == "1"
