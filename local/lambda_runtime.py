"""Run a serverless.yml function's handler in this process, as Lambda would.

Each invocation sees its own function's environment: os.environ is replaced by a mapping that
reads a per-thread overlay first, so concurrent invocations of different functions never see
each other's variables.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import time
import uuid
from collections.abc import Iterator, MutableMapping
from typing import Any, Callable, Mapping

from local.config import Function


class ThreadEnviron(MutableMapping):
    """os.environ with a per-thread overlay (reads and writes in the overlay stay in that thread)."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self._base = base
        self._local = threading.local()

    def _overlay(self) -> dict[str, str] | None:
        return getattr(self._local, "overlay", None)

    @contextlib.contextmanager
    def overlay(self, values: Mapping[str, str]) -> Iterator[None]:
        previous = self._overlay()
        self._local.overlay = {**(previous or {}), **values}
        try:
            yield
        finally:
            self._local.overlay = previous

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            return overlay[key]
        return self._base[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if overlay is not None:
            overlay[key] = value
        else:
            self._base[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            del overlay[key]
        else:
            del self._base[key]

    def __iter__(self):
        overlay = self._overlay() or {}
        yield from overlay
        yield from (key for key in self._base if key not in overlay)

    def __len__(self) -> int:
        return len(set(self._base) | set(self._overlay() or {}))

    def copy(self) -> dict[str, str]:
        return dict(self)


def install_thread_environ() -> ThreadEnviron:
    if not isinstance(os.environ, ThreadEnviron):
        os.environ = ThreadEnviron(os.environ)  # type: ignore[assignment]
    return os.environ  # type: ignore[return-value]


def _forget_unpublished_metrics() -> None:
    """Each invocation's metrics end with it, as on Lambda, where @log_metrics publishes them.

    Locally metrics are off (POWERTOOLS_METRICS_DISABLED), and Powertools then keeps them: its set
    is shared by every Metrics of the process, and at 100 values add_metric publishes it whatever
    the setting, which fails without a namespace (every 100th Calculate failed in a long session).
    """
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        Metrics().clear_metrics()


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function: Function, lambda_name: str, region: str, account: str) -> None:
        self.function_name = lambda_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = function.memory
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{lambda_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{lambda_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionRunner:
    """Imports each handler once (under its own environment) and invokes it in-process."""

    def __init__(
        self,
        functions: Mapping[str, Function],
        environments: Mapping[str, Mapping[str, str]],
        region: str,
        account: str,
        acting_as: Callable[[str], Any] | None = None,
    ) -> None:
        self._functions = functions
        # A context manager per call: the role the function's AWS calls are checked against.
        self._acting_as = acting_as or (lambda name: contextlib.nullcontext())
        self._environments = environments
        self._region = region
        self._account = account
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._lock = threading.Lock()
        self._environ = install_thread_environ()

    def environment(self, name: str) -> Mapping[str, str]:
        return self._environments[name]

    def invoke(self, name: str, event: Any) -> Any:
        function = self._functions[name]
        with self._environ.overlay(self._environments[name]), self._acting_as(name):
            handler = self._handler(function)
            context = LambdaContext(function, self._environments[name]["AWS_LAMBDA_FUNCTION_NAME"], self._region, self._account)
            try:
                return handler(event, context)
            finally:
                _forget_unpublished_metrics()

    def _handler(self, function: Function) -> Callable[[Any, Any], Any]:
        with self._lock:
            if function.name not in self._handlers:
                module = importlib.import_module(function.module)
                self._handlers[function.name] = getattr(module, function.attribute)
            return self._handlers[function.name]
