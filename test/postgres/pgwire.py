"""A small PostgreSQL client for the tests: protocol version 3, simple queries, trust auth.

Python's standard library has no PostgreSQL driver, and the tests must not depend on which
Python runs them, so this speaks the wire protocol itself (PostgreSQL docs, "Frontend/Backend
Protocol"): a StartupMessage, then Query ('Q') messages, reading RowDescription ('T'),
DataRow ('D'), CommandComplete ('C'), ErrorResponse ('E') up to ReadyForQuery ('Z').

    conn = pgwire.connect(host="/tmp/sockdir", port=5432, user="gvx", database="gvx")
    conn.execute("SELECT id FROM apikey WHERE user_id = ?", ("alice",)).fetchall()

Parameters use '?' placeholders, as the tests' sqlite3 connections do, and are sent as
quoted literals (standard_conforming_strings is on: a quote is doubled, nothing else is
special). Results come back typed for int, bool and NULL; everything else is str. Only
trust authentication is supported: the clusters the tests start use it on their own socket.
"""
import socket
import struct

TEXT_TYPES_AS_INT = {20, 21, 23, 26}  # int8, int2, int4, oid
BOOL_TYPE = 16


class Error(Exception):
    """An ErrorResponse: .fields holds its fields by code ('C' = SQLSTATE, 'M' = message)."""

    def __init__(self, fields):
        self.fields = fields
        self.sqlstate = fields.get("C", "")
        super().__init__(f"{fields.get('S', 'ERROR')}: {fields.get('M', '?')} "
                         f"(SQLSTATE {self.sqlstate})")


def quote(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        value = value.decode()
    text = str(value)
    if "\0" in text:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"


def bind(sql, params):
    """sql with each '?' outside string literals replaced by the next parameter, quoted."""
    params = list(params or ())
    out, i, in_string = [], 0, False
    for ch in sql:
        if ch == "'":
            in_string = not in_string
        if ch == "?" and not in_string:
            if i >= len(params):
                raise ValueError("more placeholders than parameters")
            out.append(quote(params[i]))
            i += 1
        else:
            out.append(ch)
    if i != len(params):
        raise ValueError("more parameters than placeholders")
    return "".join(out)


class Cursor:
    def __init__(self, rows, columns, status):
        self.rows = rows
        self.description = [(c,) for c in columns]
        self.status = status  # the CommandComplete tag of the last statement, e.g. "UPDATE 3"

    @property
    def rowcount(self):
        parts = self.status.split()
        return int(parts[-1]) if parts and parts[-1].isdigit() else -1

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return list(self.rows)

    def __iter__(self):
        return iter(self.rows)


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    # -- framing ---------------------------------------------------------------------------

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _message(self):
        head = self._recv_exact(5)
        kind, length = head[:1], struct.unpack("!i", head[1:])[0]
        return kind, self._recv_exact(length - 4)

    def _send(self, kind, payload):
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    @staticmethod
    def _fields(payload):
        fields = {}
        for part in payload.split(b"\0"):
            if part:
                fields[chr(part[0])] = part[1:].decode(errors="replace")
        return fields

    def _startup(self, user, database, options):
        params = {"user": user, "database": database, "client_encoding": "UTF8", **options}
        body = struct.pack("!i", 196608)
        for k, v in params.items():
            body += k.encode() + b"\0" + str(v).encode() + b"\0"
        body += b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        while True:
            kind, payload = self._message()
            if kind == b"R":
                if struct.unpack("!i", payload[:4])[0] != 0:
                    raise Error({"M": "only trust authentication is supported", "C": "28000"})
            elif kind == b"E":
                raise Error(self._fields(payload))
            elif kind == b"Z":
                return

    # -- queries ---------------------------------------------------------------------------

    def execute(self, sql, params=()):
        """Runs sql (one or more statements; autocommit unless it says BEGIN) and returns the
        rows of the last statement that returned any."""
        self._send(b"Q", bind(sql, params).encode() + b"\0")
        rows, columns, types, status, error = [], [], [], "", None
        result_rows, result_columns = [], []
        while True:
            kind, payload = self._message()
            if kind == b"T":
                n = struct.unpack("!h", payload[:2])[0]
                pos, columns, types, rows = 2, [], [], []
                for _ in range(n):
                    end = payload.index(b"\0", pos)
                    columns.append(payload[pos:end].decode())
                    type_oid = struct.unpack("!I", payload[end + 7:end + 11])[0]
                    types.append(type_oid)
                    pos = end + 19
            elif kind == b"D":
                n = struct.unpack("!h", payload[:2])[0]
                pos, row = 2, []
                for i in range(n):
                    size = struct.unpack("!i", payload[pos:pos + 4])[0]
                    pos += 4
                    if size < 0:
                        row.append(None)
                        continue
                    raw = payload[pos:pos + size].decode()
                    pos += size
                    if types[i] in TEXT_TYPES_AS_INT:
                        row.append(int(raw))
                    elif types[i] == BOOL_TYPE:
                        row.append(raw == "t")
                    else:
                        row.append(raw)
                rows.append(tuple(row))
            elif kind == b"C":
                status = payload.rstrip(b"\0").decode()
                if columns:
                    result_rows, result_columns = rows, columns
                columns, rows = [], []
            elif kind == b"E":
                error = Error(self._fields(payload))
            elif kind == b"Z":
                if error:
                    raise error
                return Cursor(result_rows, result_columns, status)

    def executemany(self, sql, seq):
        for params in seq:
            self.execute(sql, params)

    def executescript(self, script):
        self.execute(script)

    def close(self):
        try:
            self._send(b"X", b"")
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(host, port, user, database, timeout=10, **options):
    """host: a directory (the Unix socket's) or an address."""
    if host.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
    else:
        sock = None
    try:
        if sock is None:
            sock = socket.create_connection((host, port), timeout=timeout)
        else:
            sock.connect(f"{host}/.s.PGSQL.{port}")
        conn = Connection(sock)
        conn._startup(user, database, options)
    except BaseException:
        if sock is not None:
            sock.close()
        raise
    return conn
