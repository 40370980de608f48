"""gvxtest: what gvx's Python tests share (stdlib only). See test/README.md.

A test puts test/support on sys.path, then imports the modules it needs:

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
    from gvxtest import fcgi
"""
