"""What the console tests stand on: a real `whago serve` (Whago), a tenant's webhook receiver
(Receiver), free loopback ports and waits for conditions."""

import base64
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WHAGO = os.environ.get("WHAGO_BIN") or os.path.join(
    subprocess.run(["swift", "build", "--show-bin-path"], capture_output=True, text=True, check=True).stdout.strip(), "whago")
OUTPUT = os.path.abspath(os.environ.get("WHAGO_CONSOLE_OUTPUT", ".build/console-test"))
WAIT = 45  # seconds a step may take on a loaded machine; every wait is for a condition


_ports_given = set()
_port_cursor = [20000 + os.getpid() * 37 % 12000]


def free_ports(count):
    """`count` consecutive ports on 127.0.0.1 that nothing listens on now, for servers told their
    port before they start. As the Swift tests' freePort(): from 20000-31999, outside the kernel's
    ephemeral range (whose ports are also the local ports of outgoing connections, so one could be
    taken between this call and the server's bind), starting at a place that depends on the pid,
    and never the same port twice in this process."""
    for _ in range(12000):
        base = _port_cursor[0]
        _port_cursor[0] = 20000 if base + count > 31999 else base + count
        ports = list(range(base, base + count))
        if base + count - 1 > 31999 or _ports_given.intersection(ports):
            continue
        sockets = []
        try:
            for port in ports:
                candidate = socket.socket()
                sockets.append(candidate)
                candidate.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for candidate in sockets:
                candidate.close()
        _ports_given.update(ports)
        return ports
    raise RuntimeError("no free ports on 127.0.0.1 in 20000-31999")


def await_condition(condition, what, timeout=WAIT, interval=0.2):
    """Polls `condition` until it returns something truthy; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Whago:
    """A `whago serve` process on the embedded default, in a temporary directory."""

    def __init__(self, directory, extra=()):
        self.directory = directory
        self.port, = free_ports(1)
        self.worker_ports = free_ports(3)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(directory, "serve.log")
        self.admin_token = "console-admin-" + base64.b32encode(os.urandom(20)).decode().lower()
        token_file = os.path.join(directory, "admin-token")
        with open(token_file, "w") as handle:
            handle.write(self.admin_token + "\n")
        os.chmod(token_file, 0o600)
        self.arguments = [WHAGO, "serve",
                          "--set", f"server.dataDir={directory}/data",
                          "--set", f"server.listen=127.0.0.1:{self.port}",
                          "--set", f"server.adminToken=file:{token_file}",
                          "--set", f"runtime.local.ports={self.worker_ports[0]}-{self.worker_ports[-1]}",
                          *extra]
        self.log = open(self.log_path, "w")
        self.start()

    def start(self):
        self.process = subprocess.Popen(self.arguments, stdout=self.log, stderr=subprocess.STDOUT)
        await_condition(self.healthy, "whago serve to answer /healthz", timeout=60)

    def restart(self):
        """SIGTERM, then the same command again (its workers keep running and are adopted)."""
        self.process.send_signal(signal.SIGTERM)
        if self.process.wait(timeout=60) != 0:
            raise AssertionError(f"whago serve exited with {self.process.returncode} on SIGTERM")
        self.start()

    def healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(f"whago serve exited with {self.process.returncode}:\n{self.read_log()[-3000:]}")
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def api(self, method, path, credential=None, body=None):
        """(status, parsed JSON or None)."""
        request = urllib.request.Request(self.base + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if credential:
            request.add_header("Authorization", f"Bearer {credential}")
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                data = response.read()
                return response.status, json.loads(data) if data else None
        except urllib.error.HTTPError as error:
            data = error.read()
            return error.code, json.loads(data) if data else None

    def read_log(self):
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        # whago leaves its workers running on purpose (a restart adopts them); this run is over.
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as handle:
                    environment = handle.read().split(b"\0")
            except OSError:
                continue
            if any(entry.startswith(f"WHAGO_WORKER_DIR={self.directory}/".encode()) for entry in environment):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return self.process.returncode


class Receiver:
    """A tenant's webhook receiver on 127.0.0.1: refuses (500) until `accept()`, then records event ids."""

    def __init__(self):
        self.accepting = False
        self.received = []
        self.arrived = threading.Condition()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not owner.accepting:
                    self.send_response(500)
                    self.end_headers()
                    return
                with owner.arrived:
                    owner.received.append(json.loads(body)["id"])
                    owner.arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *arguments):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accept(self):
        self.accepting = True

    def wait_for(self, event_id, timeout=WAIT):
        with self.arrived:
            if not self.arrived.wait_for(lambda: event_id in self.received, timeout=timeout):
                raise AssertionError(f"the webhook receiver did not get event {event_id} within {timeout} s")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
