#!/usr/bin/env python3
"""Capture what real Redis 6.2 / 7.0 / 8.2 and Valkey 8.1 / 9.1 servers do in replication.

Regenerates tests/fixtures/versions/ (see its README.md) from the servers that
`scripts/setup.sh test` installs into .tools/servers/<version>/server. Python 3 standard
library only. Every server and proxy listens on 127.0.0.1 on a free port and is stopped at
exit, whatever happens (Ctrl-C included).

    scripts/capture-versions.sh                       # every version, every scenario
    scripts/capture-versions.sh --version redis-8.2   # one version (repeatable)
    scripts/capture-versions.sh --scenario partial-resync --scenario cross
    scripts/capture-versions.sh --list

Masking (for tests that compare these files): ports are written as <master-port>,
<replica-port>, <proxy-port>; log lines keep Redis's own prefix
`<pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> `, replication IDs are 40 hex characters;
see README.md in the output folder for the regular expressions.
"""
import argparse
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSIONS = ["redis-6.2", "redis-7.0", "redis-8.2", "valkey-8.1", "valkey-9.1"]
OUT = os.path.join(ROOT, "tests", "fixtures", "versions")

# Configs whose defaults matter for the replication model (read with CONFIG GET).
DEFAULT_CONFIGS = [
    "repl-backlog-size", "repl-backlog-ttl", "client-output-buffer-limit",
    "repl-diskless-sync", "repl-diskless-sync-delay", "repl-diskless-sync-max-replicas",
    "repl-diskless-load", "repl-timeout", "repl-ping-replica-period",
    "repl-disable-tcp-nodelay", "repl-rdb-channel", "replica-full-sync-buffer-limit",
    "dual-channel-replication-enabled", "rdb-key-save-delay", "key-load-delay",
    "min-replicas-to-write", "min-replicas-max-lag", "replica-lazy-flush",
    "rdb-del-sync-files", "replica-serve-stale-data", "replica-read-only",
    "replica-announced", "replica-priority", "repl-diskless-sync-period",
    "loading-process-events-interval-bytes", "hz", "rdbcompression", "rdbchecksum",
    "log-format", "log-timestamp-format", "import-mode", "rdb-version-check",
]


def is_valkey(version):
    return version.startswith("valkey")


# ----------------------------------------------------------------------------- RESP client

class RespError(Exception):
    pass


class Client:
    """A minimal RESP2 client: enough for CONFIG, INFO, DEBUG, CLIENT and pipelined writes."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf.extend(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        line = bytes(self.buf[:i])
        del self.buf[: i + 2]
        return line

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data = bytes(self.buf[:n])
            del self.buf[: n + 2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError("unexpected reply line %r" % line)

    def cmd(self, *args):
        self.sock.sendall(self.encode(*args))
        reply = self.read()
        if isinstance(reply, RespError):
            raise reply
        return reply

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self.read() for _ in commands]

    def info(self, section="replication"):
        return self.cmd("INFO", section)


def info_fields(text):
    fields = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


# ----------------------------------------------------------------------------- ports, waiting

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=30.0, every=0.05):
    """Poll `check` until it returns something truthy; the condition is the event awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(every)


# ----------------------------------------------------------------------------- servers

class Server:
    """One real server process with its own folder, port and log file."""

    def __init__(self, run, version, role, args=()):
        self.run, self.version, self.role = run, version, role
        self.binary = run.binary(version)
        self.dir = tempfile.mkdtemp(prefix="%s-%s-" % (version, role), dir=run.tmp)
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "server.log")
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--logfile", self.logfile, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no"]
        if version != "redis-6.2":  # 6.2 has no enable-debug-command: DEBUG is always on there
            argv += ["--enable-debug-command", "yes"]
        for a in args:
            argv.append(str(a))
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        run.processes.append(self)
        wait_for("%s %s to answer PING" % (version, role), self._pings, timeout=20)
        self.client = Client(self.port)
        self.pid = self.proc.pid

    def _pings(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited at start: %s" % (self.version, self.proc.stderr.read().decode()))
        try:
            c = Client(self.port, timeout=1)
            ok = c.cmd("PING") == "PONG"
            c.close()
            return ok
        except (OSError, RespError):
            return False

    def c(self, *args):
        return self.client.cmd(*args)

    def info(self, section="replication"):
        return self.client.info(section)

    def field(self, name, section="replication"):
        return info_fields(self.info(section)).get(name)

    def log_text(self):
        with open(self.logfile, "r", errors="replace") as f:
            return f.read()

    def log_mark(self):
        return len(self.log_text())

    def wait_log(self, pattern, since=0, timeout=30.0):
        rx = re.compile(pattern)
        return wait_for("%s %s log line /%s/" % (self.version, self.role, pattern),
                        lambda: rx.search(self.log_text(), since), timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ----------------------------------------------------------------------------- logging proxy

class Conn:
    """One replica->master TCP connection through the proxy, with what crossed it."""

    def __init__(self, number, down, up):
        self.number, self.down, self.up = number, down, up
        self.to_up, self.to_down = bytearray(), bytearray()  # pending writes
        self.seen_up, self.seen_down = bytearray(), bytearray()  # recorded (capped)
        self.eof = False  # one side closed: deliver what is pending, then close both
        self.closed = False


class Proxy:
    """A TCP proxy between a replica and its master that records the handshake bytes of each
    connection and can pause (stop forwarding) or cut (close everything, refuse connects).

    Small socket buffers keep what the kernel holds small, so that a paused link backs up
    into the master's output buffer (what `client-output-buffer-limit` measures)."""

    CAP = 32 * 1024 * 1024  # bytes recorded per direction per connection
    SOCKBUF = 16 * 1024

    def __init__(self, run, upstream_port):
        self.upstream = upstream_port
        self.port = 0
        self.listener = self._listen()
        self.port = self.listener.getsockname()[1]
        self.conns = []
        self.paused = False
        self.refusing = False
        self.stopping = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        run.proxies.append(self)

    def _listen(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.setblocking(False)
        return listener

    def _small(self, s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.SOCKBUF)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.SOCKBUF)

    def _accept(self):
        try:
            down, _ = self.listener.accept()
        except OSError:  # nothing to accept, or closed by cut()
            return
        up = socket.socket()
        self._small(up)
        try:
            up.connect(("127.0.0.1", self.upstream))
        except OSError:
            down.close()
            return
        self._small(down)
        down.setblocking(False)
        up.setblocking(False)
        with self.lock:
            self.conns.append(Conn(len(self.conns) + 1, down, up))

    def _close(self, c):
        if not c.closed:
            c.closed = True
            for s in (c.down, c.up):
                try:
                    s.close()
                except OSError:
                    pass

    def _loop(self):
        while not self.stopping:
            sel = selectors.DefaultSelector()
            with self.lock:
                if not self.refusing:
                    sel.register(self.listener, selectors.EVENT_READ, None)
            with self.lock:
                live = [c for c in self.conns if not c.closed]
            for c in live:
                if c.eof and not c.to_up and not c.to_down:
                    self._close(c)
                    continue
                for s, pending_out, pending_in in ((c.down, c.to_down, c.to_up), (c.up, c.to_up, c.to_down)):
                    ev = 0
                    if not self.paused and not c.eof and len(pending_in) < 65536:
                        ev |= selectors.EVENT_READ
                    if pending_out and not self.paused:
                        ev |= selectors.EVENT_WRITE
                    if ev:
                        sel.register(s, ev, c)
            try:
                ready = sel.select(timeout=0.05)
            except (OSError, ValueError):  # a socket closed by cut() meanwhile
                ready = []
            for key, ev in ready:
                if key.data is None:
                    self._accept()
                    continue
                c = key.data
                if c.closed:
                    continue
                s = key.fileobj
                from_down = s is c.down
                if ev & selectors.EVENT_READ:
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        c.eof = True
                        continue
                    if from_down:
                        c.to_up.extend(data)
                        if len(c.seen_up) < self.CAP:
                            c.seen_up.extend(data[: self.CAP - len(c.seen_up)])
                    else:
                        c.to_down.extend(data)
                        if len(c.seen_down) < self.CAP:
                            c.seen_down.extend(data[: self.CAP - len(c.seen_down)])
                if ev & selectors.EVENT_WRITE:
                    pending = c.to_down if from_down else c.to_up
                    try:
                        n = s.send(pending)
                        del pending[:n]
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._close(c)
            sel.close()

    def pause(self):
        self.paused = True

    def resume(self):
        self.paused = False

    def cut(self):
        """Close every connection and refuse new ones (the port is closed) until restore()."""
        with self.lock:
            self.refusing = True
            self.listener.close()
            for c in self.conns:
                self._close(c)

    def restore(self):
        with self.lock:
            self.listener = self._listen()
            self.refusing = False

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        with self.lock:
            for c in self.conns:
                self._close(c)
            self.listener.close()

    def transcript(self, max_items=40, skip=0):
        """Each connection's bytes (but the first `skip` connections), decoded into one line
        per message (handshake commands, replies, RDB preambles and payload summaries, stream
        commands)."""
        out = []
        with self.lock:
            conns = list(self.conns[skip:])
        for c in conns:
            out.append("## connection %d" % c.number)
            out.append("# replica -> master")
            out += ["  " + x for x in render(bytes(c.seen_up), max_items, replica_side=True)]
            out.append("# master -> replica")
            out += ["  " + x for x in render(bytes(c.seen_down), max_items, replica_side=False)]
        return "\n".join(out) + "\n"


def _short(b, n=60):
    s = b.decode("latin-1")
    s = s.encode("unicode_escape").decode("ascii")
    return s if len(s) <= n else s[:n] + "..."


def render(data, max_items, replica_side):
    """Split a recorded byte stream into readable messages. Repeated identical lines (ACKs,
    keepalives) are collapsed into one line with a count."""
    items, i, n = [], 0, len(data)
    while i < n and len(items) < max_items * 400:
        if data[i:i + 1] == b"\n":
            items.append("<newline keepalive>")
            i += 1
            continue
        if data[i:i + 1] == b"*":
            parsed = _parse_array(data, i)
            if parsed is None:
                items.append("<recording ends inside a message>")
                break
            args, i = parsed
            if args and args[0].upper() == b"REPLCONF" and len(args) == 3 and args[1].upper() == b"ACK":
                args = [args[0], args[1], b"<offset>"]
            shown = " ".join(_short(a, 40) for a in args)
            if args and args[0].upper() in (b"SET", b"SETEX", b"DEL"):
                # the stream of writes: one line per run of the same command
                items.append(("%s ... (stream commands)" % args[0].decode("latin-1").upper(), args[0].upper()))
            else:
                items.append(shown)
            continue
        j = data.find(b"\r\n", i)
        if j < 0:
            items.append("<recording ends inside a message>")
            break
        line = data[i:j]
        i = j + 2
        if line.startswith(b"$EOF:") and not replica_side:
            mark = line[5:45]
            k = data.find(mark, i)
            if k < 0:
                items.append("$EOF:<40-char mark>  then RDB bytes (recording cap reached)")
                break
            items.append("$EOF:<40-char mark>")
            items.append("<RDB %d bytes, magic %s> <same mark>" % (k - i, _short(data[i:i + 9])))
            i = k + 40
            continue
        if line.startswith(b"$ENDOFF:"):
            items.append(line.decode("latin-1"))
            continue
        if line.startswith(b"$") and not replica_side:
            try:
                size = int(line[1:])
            except ValueError:
                items.append(_short(line))
                continue
            items.append("$%d" % size)
            items.append("<RDB %d bytes, magic %s>" % (size, _short(data[i:i + 9])))
            i += size
            continue
        items.append(line.decode("latin-1"))
    # collapse runs of the same line (or of the same stream command)
    out = []
    for it in items:
        shown, key = it if isinstance(it, tuple) else (it, it)
        if out and out[-1][2] == key:
            out[-1][1] += 1
        else:
            out.append([shown, 1, key])
    lines = [it if k == 1 else "%s   (x%d)" % (it, k) for it, k, _ in out]
    if len(lines) > max_items:
        lines = lines[:max_items] + ["... (%d more)" % (len(lines) - max_items)]
    return lines


def _parse_array(data, i):
    j = data.find(b"\r\n", i)
    if j < 0:
        return None
    try:
        count = int(data[i + 1:j])
    except ValueError:
        return None
    i = j + 2
    args = []
    for _ in range(count):
        j = data.find(b"\r\n", i)
        if j < 0 or data[i:i + 1] != b"$":
            return None
        ln = int(data[i + 1:j])
        i = j + 2
        if len(data) < i + ln + 2:
            return None
        args.append(data[i:i + ln])
        i += ln + 2
    return args, i


# ----------------------------------------------------------------------------- one capture run

class Run:
    def __init__(self, servers_dir, out_dir):
        self.servers_dir = servers_dir
        self.out_dir = out_dir
        self.tmp = tempfile.mkdtemp(prefix="replscope-versions-")
        self.processes = []
        self.proxies = []

    def binary(self, version):
        path = os.path.join(self.servers_dir, version, "server")
        if not os.access(path, os.X_OK):
            sys.exit("no %s server at %s: run `source scripts/setup.sh test` first" % (version, path))
        return path

    def stop_all(self):
        for p in self.proxies:
            p.stop()
        self.proxies = []
        for s in self.processes:
            s.stop()
        self.processes = []

    def cleanup(self):
        self.stop_all()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Capture:
    """Files for one version and scenario, with ports masked."""

    def __init__(self, run, version, scenario):
        self.run, self.version, self.scenario = run, version, scenario
        self.dir = os.path.join(run.out_dir, version, scenario)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.ports = {}
        self.marks = {}

    def name_port(self, port, name):
        self.ports[port] = name

    def mask(self, text):
        for port, name in self.ports.items():
            text = re.sub(r"(?<![0-9])%d(?![0-9])" % port, "<%s>" % name, text)
        return text

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(self.mask(text))

    def start_log(self, server):
        self.marks[server] = server.log_mark()

    def save_log(self, server, name):
        text = server.log_text()[self.marks.get(server, 0):]
        self.write(name, text)

    def save_info(self, server, name, section="replication"):
        self.write(name, server.info(section))


# ----------------------------------------------------------------------------- scenario helpers

def populate(server, keys, value_size=100):
    server.c("DEBUG", "POPULATE", keys, "key", value_size)


def write_bytes(server, total, value_size=4096, prefix="w"):
    """Pipelined SETs adding about `total` bytes to the replication stream."""
    value = "x" * value_size
    n = max(1, total // (value_size + 40))
    batch = []
    for i in range(n):
        batch.append(("SET", "%s:%d" % (prefix, i), value))
        if len(batch) == 200:
            server.client.pipeline(batch)
            batch = []
    if batch:
        server.client.pipeline(batch)


def replicaof(replica, port):
    replica.c("REPLICAOF", "127.0.0.1", port)


def link_up(replica):
    return replica.field("master_link_status") == "up"


def classic_sync_args(version):
    """Settings that keep a version on the classic one-connection sync."""
    if version == "redis-8.2":
        return ["--repl-rdb-channel", "no"]
    if is_valkey(version):
        return ["--dual-channel-replication-enabled", "no"]
    return []


def pair(run, cap, version, master_args=(), replica_args=(), replica_version=None):
    """A master, a replica (of the same version unless told) and the proxy between them."""
    master = Server(run, version, "master", master_args)
    replica = Server(run, replica_version or version, "replica", replica_args)
    proxy = Proxy(run, master.port)
    cap.name_port(master.port, "master-port")
    cap.name_port(replica.port, "replica-port")
    cap.name_port(proxy.port, "proxy-port")
    return master, replica, proxy


def record_states(server, names, timeout, done):
    """Poll INFO (on a connection of its own) and keep the first INFO replication snapshot of
    each state in `names` (a label -> predicate over the fields and text), until `done` is set."""
    c = Client(server.port)
    seen = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done.is_set():
        repl = c.info("replication")
        text = repl + c.info("persistence")
        f = info_fields(text)
        for label, pred in names.items():
            if label not in seen and pred(f, text):
                seen[label] = repl
        time.sleep(0.02)
    c.close()
    return seen


# ----------------------------------------------------------------------------- scenarios

def sc_defaults(run, version):
    """CONFIG GET of the replication configs, INFO of a lone server, the RDB magic it writes."""
    cap = Capture(run, version, "defaults")
    s = Server(run, version, "alone")
    cap.name_port(s.port, "master-port")
    lines = []
    for name in DEFAULT_CONFIGS:
        try:
            reply = s.c("CONFIG", "GET", name)
        except RespError as e:
            reply = ["ERR " + str(e)]
        if not reply:
            lines.append("%s = (no such config)" % name)
        else:
            pairs = [reply[i:i + 2] for i in range(0, len(reply), 2)]
            for p in pairs:
                lines.append("%s = %s" % (p[0], p[1] if len(p) > 1 else p))
    cap.write("config-get.txt", "\n".join(lines) + "\n")
    cap.write("info-replication-alone.txt", s.info("replication"))
    cap.write("version.txt", "%s\nrdb version written: %s\n" % (
        subprocess.run([s.binary, "--version"], capture_output=True, text=True).stdout.strip(),
        rdb_version_of(s)))


def rdb_version_of(server):
    server.c("SET", "rdbversion:probe", "1")
    server.c("SAVE")
    with open(os.path.join(server.dir, "dump.rdb"), "rb") as f:
        head = f.read(9)
    return head.decode("latin-1")


def full_sync(run, version, scenario, master_args, replica_args, load_delay=True, writes=True):
    """A first full sync of a replica with a 20,000-key master, slowed so each state can be
    seen: the master's BGSAVE (rdb-key-save-delay) and the replica's load (key-load-delay)."""
    cap = Capture(run, version, scenario)
    # rdbcompression off: DEBUG POPULATE's padded values would compress to almost nothing
    margs = ["--rdb-key-save-delay", "100", "--rdbcompression", "no"] + list(master_args)
    rargs = list(replica_args)
    if version != "redis-6.2":  # 6.2 processes events every 2 MB of RDB, fixed (rdbLoadProgressCallback)
        rargs += ["--loading-process-events-interval-bytes", "1024"]
    if load_delay:
        rargs += ["--key-load-delay", "100"]
    master, replica, proxy = pair(run, cap, version, margs, rargs)
    populate(master, 20000, 500)  # ~10 MB of RDB: several 2 MB event-processing steps while loading
    cap.start_log(master)
    cap.start_log(replica)
    stop_writes = threading.Event()
    writer = None
    if writes:
        def write_during_sync():
            c = Client(master.port)
            i = 0
            while not stop_writes.is_set():
                c.pipeline([("SET", "during:%d" % (i + k), "v" * 1000) for k in range(20)])
                i += 20
                time.sleep(0.02)
            c.close()
        writer = threading.Thread(target=write_during_sync, daemon=True)
    replicaof(replica, proxy.port)
    if writer:
        writer.start()
    master_states, replica_states = {}, {}
    done = threading.Event()

    def poll_master():
        master_states.update(record_states(master, {
            "wait_bgsave": lambda f, t: "state=wait_bgsave" in t,
            "send_bulk": lambda f, t: "state=send_bulk," in t,
            "send_bulk_and_stream": lambda f, t: "state=send_bulk_and_stream" in t,
            "bg_transfer": lambda f, t: "state=bg_transfer" in t,
            "online": lambda f, t: "state=online" in t,
        }, 90, done))
    t = threading.Thread(target=poll_master, daemon=True)
    t.start()

    def replica_up_watch():
        c = Client(replica.port)
        try:
            wait_for("link up", lambda: info_fields(c.info())["master_link_status"] == "up", 90)
        finally:
            time.sleep(0.1)
            done.set()
            c.close()
    w = threading.Thread(target=replica_up_watch, daemon=True)
    w.start()
    replica_states.update(record_states(replica, {
        "handshake": lambda f, t: f.get("master_link_status") == "down" and f.get("master_sync_in_progress") == "0",
        "sync": lambda f, t: f.get("master_sync_in_progress") == "1" and f.get("loading") == "0",
        "loading": lambda f, t: f.get("loading") == "1",
        "connected": lambda f, t: f.get("master_link_status") == "up",
    }, 90, done))
    w.join(1)
    t.join(5)
    stop_writes.set()
    if writer:
        writer.join(5)
    wait_for("link up", lambda: link_up(replica), 30)
    time.sleep(1.2)  # one replicationCron tick: the replica's first periodic ACK and lag
    master_states["online-settled"] = master.info("replication")
    for label, text in master_states.items():
        cap.write("info-master-%s.txt" % label, text)
    for label, text in replica_states.items():
        cap.write("info-replica-%s.txt" % label, text)
    cap.write("info-master-stats.txt", filter_info(master.info("stats"), ("sync_", "repl")))
    cap.write("info-master-memory.txt", filter_info(master.info("memory"), ("repl", "clients_slaves", "replica")))
    cap.write("info-replica-memory.txt", filter_info(replica.info("memory"), ("repl", "clients_slaves", "replica")))
    cap.save_log(master, "master.log")
    cap.save_log(replica, "replica.log")
    cap.write("handshake.txt", proxy.transcript())
    cap.write("client-list-master.txt", master.c("CLIENT", "LIST"))


def filter_info(text, needles):
    keep = [l for l in text.splitlines() if l.startswith("#") or any(n in l for n in needles)]
    return "\n".join(keep) + "\n"


def sc_full_sync_disk(run, version):
    """A first full sync with repl-diskless-sync no (states, INFO, logs, handshake)."""
    full_sync(run, version, "full-sync-disk", ["--repl-diskless-sync", "no"], [])


def sc_full_sync_diskless(run, version):
    """The same with diskless sync on one connection (no RDB / dual channel)."""
    args = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1"] + classic_sync_args(version)
    full_sync(run, version, "full-sync-diskless", args, classic_sync_args(version))


def sc_second_channel(run, version):
    """The same through Redis 8.2's RDB channel or Valkey's dual channel."""
    if version == "redis-8.2":
        on = ["--repl-rdb-channel", "yes"]
        name = "full-sync-rdb-channel"
    elif is_valkey(version):
        on = ["--dual-channel-replication-enabled", "yes"]
        name = "full-sync-dual-channel"
    else:
        return
    full_sync(run, version, name,
              ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1"] + on, on)


def sc_second_channel_needs_diskless(run, version):
    """The second channel enabled on both sides, but the master syncs to disk."""
    if version == "redis-8.2":
        on = ["--repl-rdb-channel", "yes"]
    elif is_valkey(version):
        on = ["--dual-channel-replication-enabled", "yes"]
    else:
        return
    full_sync(run, version, "second-channel-with-disk-sync",
              ["--repl-diskless-sync", "no"] + on, on, load_delay=False, writes=False)


def sc_second_channel_buffer_limit(run, version):
    """The replica's local buffer of an RDB-channel / dual-channel sync reaches its limit."""
    if version == "redis-8.2":
        on = ["--repl-rdb-channel", "yes"]
        limit = ["--replica-full-sync-buffer-limit", "1mb"]
    elif is_valkey(version):
        # Valkey has no option of its own: the replica's replica-class hard limit (bufferReplData)
        on = ["--dual-channel-replication-enabled", "yes"]
        limit = ["--client-output-buffer-limit", "replica", "1mb", "0", "0"]
    else:
        return
    full_sync(run, version, "second-channel-buffer-limit",
              ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1"] + on, on + limit)


def sc_diskless_load_swapdb(run, version):
    """A classic diskless sync into a replica with repl-diskless-load swapdb."""
    classic = classic_sync_args(version)
    full_sync(run, version, "diskless-load-swapdb",
              ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1"] + classic,
              classic + ["--repl-diskless-load", "swapdb"])


def sc_second_channel_diskless_load(run, version):
    """Redis 8.2's RDB channel, or Valkey's dual channel, into a replica with
    repl-diskless-load swapdb: it parses the RDB connection as it arrives."""
    if version == "redis-8.2":
        on, name = ["--repl-rdb-channel", "yes"], "rdb-channel-diskless-load-swapdb"
    elif version.startswith("valkey-"):
        on, name = ["--dual-channel-replication-enabled", "yes"], "dual-channel-diskless-load-swapdb"
    else:
        return
    full_sync(run, version, name,
              ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1"] + on,
              on + ["--repl-diskless-load", "swapdb"])


def sc_diskless_replica_dropped(run, version):
    """The only target of a diskless (classic) transfer disconnects mid-transfer."""
    cap = Capture(run, version, "diskless-replica-dropped")
    classic = classic_sync_args(version)
    margs = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
             "--rdb-key-save-delay", "200", "--rdbcompression", "no"] + classic
    master, replica, proxy = pair(run, cap, version, margs, classic)
    populate(master, 20000, 500)
    cap.start_log(master)
    cap.start_log(replica)
    replicaof(replica, proxy.port)
    master.wait_log("Starting BGSAVE for SYNC", since=cap.marks[master], timeout=15)
    wait_for("bytes flowing", lambda: int(replica.field("master_sync_read_bytes") or 0) > 0, 15)
    master.c("CLIENT", "KILL", "TYPE", "replica")
    master.wait_log("last replica dropped|killing fork child", since=cap.marks[master], timeout=15)
    master.wait_log("Background transfer terminated by signal|Background transfer error|terminated",
                    since=cap.marks[master], timeout=15)
    wait_for("the replica's next full sync", lambda: replica.log_text()[cap.marks[replica]:].count(
        "Full resync from") >= 2, 15)
    cap.save_log(master, "master.log")
    cap.save_log(replica, "replica.log")


def synced_pair(run, cap, version, master_args=(), replica_args=()):
    master, replica, proxy = pair(run, cap, version, master_args, replica_args)
    populate(master, 1000)
    replicaof(replica, proxy.port)
    wait_for("first sync", lambda: link_up(replica), 60)
    write_bytes(master, 20_000, prefix="before")
    wait_for("replica caught up",
             lambda: replica.field("slave_repl_offset") == master.field("master_repl_offset"), 10)
    # the first periodic ACK, so the master sees the replica online and acked
    wait_for("replica acked", lambda: "state=online" in master.info() and "lag=" in master.info(), 10)
    return master, replica, proxy


def sc_partial_resync(run, version):
    """+CONTINUE after CLIENT KILL TYPE replica on the master."""
    cap = Capture(run, version, "partial-resync")
    master, replica, proxy = synced_pair(run, cap, version)
    cap.start_log(master)
    cap.start_log(replica)
    conns = len(proxy.conns)
    kill_type = "replica"
    killed = master.c("CLIENT", "KILL", "TYPE", kill_type)
    wait_for("partial resync", lambda: master.field("sync_partial_ok", "stats") == "1", 20)
    wait_for("link up", lambda: link_up(replica), 10)
    cap.save_log(master, "master.log")
    cap.save_log(replica, "replica.log")
    cap.write("handshake.txt", "CLIENT KILL TYPE %s -> %s\n" % (kill_type, killed) +
              proxy.transcript(skip=conns))
    cap.save_info(master, "info-master.txt")
    cap.save_info(replica, "info-replica.txt")
    cap.write("info-master-stats.txt", filter_info(master.info("stats"), ("sync_",)))


def sc_psync_no_backlog(run, version):
    """A PSYNC refused for lack of backlog: 1mb backlog, 3 MB written while the link is cut."""
    cap = Capture(run, version, "psync-refused-backlog")
    master, replica, proxy = synced_pair(run, cap, version, ["--repl-backlog-size", "1mb"])
    cap.start_log(master)
    cap.start_log(replica)
    conns = len(proxy.conns)
    proxy.cut()
    wait_for("master sees the replica gone", lambda: master.field("connected_slaves") == "0", 10)
    write_bytes(master, 3 * 1024 * 1024)
    time.sleep(0.3)  # beforeSleep trims the backlog (7.0+) on the next event-loop passes
    cap.save_info(master, "info-master-during-cut.txt")
    wait_for("replica sees the link down", lambda: replica.field("master_link_status") == "down", 15)
    cap.save_info(replica, "info-replica-during-cut.txt")
    proxy.restore()
    wait_for("refused psync", lambda: master.field("sync_partial_err", "stats") == "1", 30)
    wait_for("full sync done", lambda: link_up(replica), 60)
    cap.save_log(master, "master.log")
    cap.save_log(replica, "replica.log")
    cap.write("handshake.txt", proxy.transcript(skip=conns))
    cap.write("info-master-stats.txt", filter_info(master.info("stats"), ("sync_",)))


def sc_obuf_cutoff(run, version):
    """A replica cut off by its output-buffer limit while its link is paused."""
    cap = Capture(run, version, "obuf-cutoff")
    # separate words: 6.2 reads a quoted "replica 2mb 1mb 60" as one bad argument
    limit = ["--client-output-buffer-limit", "replica", "2mb", "1mb", "60", "--repl-backlog-size", "1mb"]
    master, replica, proxy = synced_pair(run, cap, version, limit)
    cap.start_log(master)
    cap.start_log(replica)
    conns = len(proxy.conns)
    proxy.pause()
    peaks = []
    last_info = ""
    for _ in range(12):
        write_bytes(master, 1024 * 1024, prefix="obuf")
        text = master.c("CLIENT", "LIST", "TYPE", "replica")
        peaks.append(text.strip())
        info = master.info("replication")
        if info_fields(info)["connected_slaves"] == "0":
            break
        last_info = info  # the lagging replica still connected: 7.0+ backlogs grow past their size
    cap.write("info-master-while-paused.txt", last_info)
    master.wait_log("overcoming of output buffer limits", timeout=10)
    cap.write("client-list-while-paused.txt", "\n".join(p for p in peaks if p) + "\n")
    proxy.resume()
    wait_for("resynced", lambda: link_up(replica) and master.field("connected_slaves") == "1", 60)
    time.sleep(1.2)
    cap.save_log(master, "master.log")
    cap.save_log(replica, "replica.log")
    cap.write("handshake.txt", proxy.transcript(skip=conns))
    cap.write("info-master-stats.txt", filter_info(master.info("stats"), ("sync_",)))


def sc_timeouts(run, version):
    """repl-timeout on the master (ACKs stop), then on the replica (pings stop)."""
    cap = Capture(run, version, "replica-timeout")
    master, replica, proxy = synced_pair(run, cap, version, ["--repl-timeout", "2"])
    # 1. the master drops a replica whose ACKs stop (repl-timeout on the master)
    cap.start_log(master)
    cap.start_log(replica)
    proxy.pause()
    master.wait_log("timedout replica", timeout=15)
    proxy.resume()
    wait_for("resynced", lambda: link_up(replica) and master.field("connected_slaves") == "1", 30)
    cap.save_log(master, "master-side-timeout.master.log")
    cap.save_log(replica, "master-side-timeout.replica.log")
    # 2. the replica drops a master that sends nothing (repl-timeout on the replica)
    master.c("CONFIG", "SET", "repl-timeout", "60")
    master.c("CONFIG", "SET", "repl-ping-replica-period", "1")
    replica.c("CONFIG", "SET", "repl-timeout", "2")
    time.sleep(1.5)
    cap.start_log(master)
    cap.start_log(replica)
    proxy.pause()
    replica.wait_log("MASTER timeout|PRIMARY timeout|primary timeout", timeout=15)
    replica.wait_log("Timeout connecting to the", timeout=15)
    proxy.resume()
    wait_for("resynced", lambda: link_up(replica), 30)
    cap.save_log(master, "replica-side-timeout.master.log")
    cap.save_log(replica, "replica-side-timeout.replica.log")


def sc_cross(run, versions):
    """Each version as the replica of each other version, all defaults."""
    summary = ["replica\tmaster\toutcome\tdetail"]
    for master_v in VERSIONS:
        for replica_v in VERSIONS:
            if master_v == replica_v or (versions and master_v not in versions and replica_v not in versions):
                continue
            name = "%s--of--%s" % (replica_v, master_v)
            cap = Capture(run, "cross", name)
            master, replica, proxy = pair(run, cap, master_v, replica_version=replica_v)
            populate(master, 100)
            cap.start_log(master)
            cap.start_log(replica)
            replicaof(replica, proxy.port)
            outcome = "synced"
            detail = ""
            try:
                wait_for("link up", lambda: link_up(replica), 15)
                master.c("SET", "cross:probe", "1")
                wait_for("probe replicated", lambda: replica.c("GET", "cross:probe") == "1", 10)
            except TimeoutError:
                outcome = "no sync"
                m = re.search(r"^\d+:\w \d+ \w+ \d+ [\d:.]+ [#*.-] (.*(Can't handle RDB format version|Wrong RDB|"
                              r"Bad file format|Failed trying to load).*)$", replica.log_text(), re.M)
                detail = m.group(1) if m else ""
            time.sleep(0.5)
            cap.save_log(master, "master.log")
            cap.save_log(replica, "replica.log")
            cap.write("handshake.txt", proxy.transcript(max_items=25))
            summary.append("%s\t%s\t%s\t%s" % (replica_v, master_v, outcome, cap.mask(detail)))
            run.stop_all()
    os.makedirs(os.path.join(run.out_dir, "cross"), exist_ok=True)
    with open(os.path.join(run.out_dir, "cross", "summary.tsv"), "w") as f:
        f.write("\n".join(summary) + "\n")


# ----------------------------------------------------------------------------- log catalogue

LOG_LINE = re.compile(r"^(\d+):([MSCX]) \d\d \w{3} \d{4} [\d:.]+ (.) (.*)$")


def normalise(message):
    """A log message with what changes from run to run replaced by placeholders."""
    m = message
    m = re.sub(r"[0-9a-f]{40}", "<id>", m)
    m = re.sub(r"id=\d+ addr=.*? (scheduled|closed)", r"<client-info> \1", m)
    m = re.sub(r"user request from '.*'\)", "user request from '<client-info>')", m)
    m = re.sub(r"pid \d+", "pid <pid>", m)
    m = re.sub(r"(offset|request was:|offset:?) \d+", r"\1 <n>", m)
    m = re.sub(r"<id>:\d+", "<id>:<n>", m)
    m = re.sub(r"range \[\d+, \d+\]", "range [<n>, <n>]", m)
    m = re.sub(r"client-id \d+", "client-id <n>", m)
    m = re.sub(r"\d+(\.\d+)? (MB|Mb|bytes|seconds)", r"<n> \2", m)
    m = re.sub(r"keys loaded: \d+", "keys loaded: <n>", m)
    m = re.sub(r"format version \d+", "format version <n>", m)
    return m


def log_messages(path):
    """`<role> <level> <normalised message>` for each line of a captured log."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_LINE.match(line.rstrip("\n"))
            if m:
                out.append("%s %s %s" % (m.group(2), m.group(3), normalise(m.group(4))))
    return out


# One row per replication event: (event, regular expression over normalised messages).
CATALOGUE_EVENTS = [
("replica: REPLICAOF on a master", r"Before turning into a replica"),
("replica: connecting", r"Connecting to (MASTER|PRIMARY)"),
("replica: sync started", r"<-> REPLICA sync started"),
("replica: TCP connected", r"Non blocking connect for SYNC"),
("replica: PING answered", r"replied to PING"),
("replica: PSYNC with cached master", r"Trying a partial resynchronization \(request"),
("replica: PSYNC without cached master", r"not possible \(no cached"),
("replica: +FULLRESYNC", r"Full resync from"),
("replica: 2nd channel opened", r"PSYNC is not possible, initialize RDB channel"),
("replica: 2nd channel, stream in parallel", r"Starting to receive RDB and replication stream in parallel|Trying a partial resynchronization using main channel"),
("replica: 2nd channel, main channel accepted", r"Primary accepted a Partial Resynchronization, RDB load"),
("replica: bulk header (disk)", r"receiving \d*<?n?>? ?bytes from"),
("replica: bulk header (EOF, disk)", r"receiving streamed RDB from .* with EOF to disk"),
("replica: bulk header (EOF, diskless load)", r"with EOF to parser"),
("replica: local buffer full", r"limit (has been )?reached"),
("replica: cached master discarded", r"Discarding previously cached"),
("replica: flush", r"Flushing old data"),
("replica: load", r"sync: Loading DB in memory"),
("replica: loader", r"Loading RDB produced by"),
("replica: loader done", r"Done loading RDB"),
("replica: swapdb", r"Swapping active DB with loaded DB"),
("replica: swapdb old db", r"Discarding old DB in background"),
("replica: done", r"sync: Finished with success"),
("replica: buffered stream applied (start)", r"Starting to stream replication buffer"),
("replica: buffered stream applied (end)", r"Successfully streamed replication"),
("replica: +CONTINUE", r"Successful partial resynchronization with"),
("replica: +CONTINUE (2)", r"accepted a Partial Resynchronization\.$"),
("replica: link lost", r"Connection with (master|primary) lost"),
("replica: caching", r"Caching the disconnected"),
("replica: reconnect", r"Reconnecting to (MASTER|PRIMARY) \S+$"),
("replica: reconnect after failure", r"after failure"),
("replica: connect refused", r"Error condition on socket for SYNC"),
("replica: master timeout", r"(MASTER|PRIMARY) timeout: no data"),
("replica: connect timeout", r"Timeout connecting to the"),
("replica: transfer I/O error", r"I/O error trying to sync"),
("replica: 2nd channel aborted", r"Aborting (rdb|dual) channel sync"),
("replica: REPLCONF not understood", r"Non critical"),
("replica: RDB too new", r"Can't handle RDB format version"),
("replica: load failed", r"Failed trying to load"),
("master: PSYNC received", r"asks for synchronization$"),
("master: PSYNC ?", r"Full resync requested by replica"),
("master: replid mismatch", r"Replication ID mismatch"),
("master: backlog created", r"Replication backlog created"),
("master: 2nd channel offered", r"capable of (rdb|dual) channel synchronization"),
("master: lack of backlog", r"for lack of backlog"),
("master: partial accepted", r"Partial resynchronization request from"),
("master: diskless delay", r"Delay next BGSAVE"),
("master: fork (disk)", r"Starting BGSAVE for SYNC with target: disk"),
("master: fork (sockets)", r"target: replicas sockets( using: normal sync)?$"),
("master: fork (2nd channel)", r"target: replicas sockets (\(rdb-channel\)|using: dual-channel)"),
("master: 2nd channel stream start", r"Starting to deliver RDB and replication stream|Sending to replica .* RDB end offset"),
("master: disk child", r"Background saving started by pid"),
("master: socket child", r"Background RDB transfer started by pid"),
("child: saved", r"DB saved on disk"),
("child: CoW", r"copy-on-write|Fork CoW"),
("master: disk child done", r"Background saving terminated with success"),
("master: pipe drained", r"done reading from pipe"),
("master: socket child done", r"Background RDB transfer terminated with success"),
("master: streamed, waiting ACK", r"Streamed RDB transfer with replica"),
("master: rdb-only done", r"rdb only replica"),
("master: 2nd channel closed", r"\(rdbchannel\) .* lost|rdb channel disconnected"),
("master: online", r"Synchronization with replica .* succeeded"),
("master: COB", r"overcoming of output buffer limits"),
("master: replica lost", r"Connection with replica 127"),
("master: ACK timeout", r"timedout replica \(streaming"),
("master: last diskless target gone", r"last replica dropped"),
("master: socket child killed", r"Background (RDB )?transfer terminated by signal"),
("master: killing the RDB child", r"Killing running RDB child"),
("master: 2nd channel capa ignored (disk sync)", r"Dual channel capability ignored"),
("replica: download failed (9.1 thread)", r"detected RDB download failure"),
("master: socket BGSAVE busy", r"Current BGSAVE has socket target"),
]


def write_catalogue(out_dir):
    """log-catalogue.md: for each event, Redis 7.0's exact line and what each other version
    prints instead, found in the captures (the cross-version pairs included)."""
    import glob
    files = {}
    for v in VERSIONS:
        paths = sorted(glob.glob(os.path.join(out_dir, v, "*", "*.log")))
        paths += sorted(glob.glob(os.path.join(out_dir, "cross", v + "--of--*", "replica.log")))
        paths += sorted(glob.glob(os.path.join(out_dir, "cross", "*--of--" + v, "master.log")))
        files[v] = [(os.path.relpath(p, out_dir), m) for p in paths for m in log_messages(p)]
    order = ["redis-7.0", "redis-6.2", "redis-8.2", "valkey-8.1", "valkey-9.1"]
    lines = [
        "# Replication log lines by version (generated by scripts/capture-versions.sh)",
        "",
        "Each row is one event; the Redis 7.0 column gives the exact line (role, level, message)",
        "and the capture it was found in; the other columns say `same` or give their own line.",
        "`<id>`, `<n>`, `<pid>`, `<client-info>` and `<...-port>` stand for what changes between",
        "runs. `—`: not seen in these captures (the version may still print it elsewhere).",
        "",
        "| event | " + " | ".join(order) + " |",
        "|---|" + "---|" * len(order),
    ]
    for name, rx in CATALOGUE_EVENTS:
        r = re.compile(rx)
        hits = {v: next(((f, m) for f, m in files[v] if r.search(m)), None) for v in order}
        if not any(hits.values()):
            continue
        base = hits["redis-7.0"]
        row = []
        for v in order:
            h = hits[v]
            if h is None:
                row.append("—")
                continue
            text = "`%s`" % h[1].replace("|", "\\|")
            if base and v != "redis-7.0" and h[1] == base[1]:
                row.append("same")
            elif v == "valkey-9.1" and hits["valkey-8.1"] and h[1] == hits["valkey-8.1"][1]:
                row.append("= valkey-8.1")
            else:
                row.append("%s (%s)" % (text, h[0]))
        lines.append("| %s | %s |" % (name, " | ".join(row)))
    with open(os.path.join(out_dir, "log-catalogue.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


SCENARIOS = {
    "defaults": sc_defaults,
    "full-sync-disk": sc_full_sync_disk,
    "full-sync-diskless": sc_full_sync_diskless,
    "second-channel": sc_second_channel,
    "second-channel-with-disk-sync": sc_second_channel_needs_diskless,
    "second-channel-buffer-limit": sc_second_channel_buffer_limit,
    "diskless-load-swapdb": sc_diskless_load_swapdb,
    "rdb-channel-diskless-load-swapdb": sc_second_channel_diskless_load,
    "diskless-replica-dropped": sc_diskless_replica_dropped,
    "partial-resync": sc_partial_resync,
    "psync-refused-backlog": sc_psync_no_backlog,
    "obuf-cutoff": sc_obuf_cutoff,
    "replica-timeout": sc_timeouts,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="append", choices=VERSIONS, help="only this version (repeatable)")
    ap.add_argument("--scenario", action="append", choices=list(SCENARIOS) + ["cross"],
                    help="only this scenario (repeatable); `cross` runs every version against every other")
    ap.add_argument("--servers", default=os.path.join(ROOT, ".tools", "servers"),
                    help="folder with <version>/server binaries (default: .tools/servers)")
    ap.add_argument("--out", default=OUT, help="output folder (default: tests/fixtures/versions)")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--catalogue-only", action="store_true",
                    help="only rewrite log-catalogue.md from the captures already there")
    args = ap.parse_args()
    if args.list:
        for name, fn in SCENARIOS.items():
            print("%-30s %s" % (name, (fn.__doc__ or "").strip().split("\n")[0]))
        print("%-30s %s" % ("cross", sc_cross.__doc__.strip()))
        return
    if args.catalogue_only:
        write_catalogue(args.out)
        return
    versions = args.version or VERSIONS
    scenarios = args.scenario or (list(SCENARIOS) + ["cross"])
    run = Run(args.servers, args.out)

    def on_signal(signum, frame):
        run.cleanup()
        sys.exit(130)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    failures = []
    try:
        for version in versions:
            for name in scenarios:
                if name == "cross":
                    continue
                t0 = time.monotonic()
                try:
                    SCENARIOS[name](run, version)
                    print("%-11s %-30s ok (%.1f s)" % (version, name, time.monotonic() - t0), flush=True)
                except Exception as e:  # report and go on with the next capture
                    failures.append((version, name, e))
                    print("%-11s %-30s FAILED: %s" % (version, name, e), flush=True)
                finally:
                    run.stop_all()
        if "cross" in scenarios:
            sc_cross(run, args.version)
            print("cross-version pairs ok", flush=True)
    finally:
        run.cleanup()
    write_catalogue(args.out)
    if failures:
        sys.exit("%d capture(s) failed" % len(failures))


if __name__ == "__main__":
    main()
