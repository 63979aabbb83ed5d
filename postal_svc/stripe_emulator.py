"""localstripe, a Stripe emulator, run beside us as a separate process for the demo and tests.

localstripe is GPL: it is started as its own program (`python -m localstripe`) and spoken to
over HTTP like Stripe, never imported (an import-linter contract in setup.cfg keeps it so).
It is a development dependency (`pip install -e '.[dev]'`).
"""
from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any

# localstripe accepts any key of the right shape.
SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"


class EmulatorUnavailable(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port nobody listens on now, on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStripe:
    process: subprocess.Popen[Any]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        """Where localstripe serves its stand-in for Stripe.js v3."""
        return f"{self.url}/js.stripe.com/v3/"

    def register_webhook(self, url: str, secret: str, name: str = "postal-svc") -> None:
        """Have localstripe sign and send its events (payment_intent.succeeded and
        .payment_failed) to `url` with `secret`."""
        body = json.dumps({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(f"{self.url}/_config/webhooks/{name}", data=body,
                                         headers={"Content-Type": "application/json"},
                                         method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 (loopback)
            answer.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def installed() -> bool:
    return importlib.util.find_spec("localstripe") is not None


def start_localstripe(port: int | None = None, *, from_scratch: bool = True,
                      output: IO[Any] | int | None = subprocess.DEVNULL,
                      timeout_s: float = 30) -> LocalStripe:
    """Start localstripe on `port` (a free one by default) and wait until it answers.

    localstripe keeps its state in /tmp/localstripe.pickle; `from_scratch` ignores what is
    there. Its CLI has no host option: it listens on every interface of this machine.
    Raises EmulatorUnavailable when it is not installed or does not come up.
    """
    if not installed():
        raise EmulatorUnavailable("localstripe is not installed (pip install -e '.[dev]')")
    port = port or free_port()
    command = [sys.executable, "-m", "localstripe", "--port", str(port)]
    if from_scratch:
        command.append("--from-scratch")
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    emulator = LocalStripe(process=process, port=port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorUnavailable(f"localstripe exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(emulator.js_url, timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return emulator
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    emulator.stop()
    raise EmulatorUnavailable(f"localstripe did not answer on port {port}")
