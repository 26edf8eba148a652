"""moto in server mode for the deploy rehearsal, with two moto bugs worked around.

`python -m tests.deploy.moto_server PORT` serves every AWS API moto has on 127.0.0.1:PORT until
stopped. Only the rehearsal uses it; the patches below live in this process alone.

1. moto's CloudFormation substitutes the list form of Fn::Sub with string.Template, whose names
   cannot start with a digit; serverless-step-functions names its variables with MD5 hex digests,
   so the state machine's DefinitionString fails (KeyError, HTTP 500). The patch substitutes the
   named variables itself first.
2. moto's execute_change_set never rebuilds the stack's Outputs, so after a deploy through a
   change set the Framework reads none and prints `undefined` endpoints. The patch rebuilds them
   from the executed template.

Each patch checks that what it replaces is still there, and says which one broke if not.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any


def patch_fn_sub_list_form() -> None:
    from moto.cloudformation import parsing

    original = getattr(parsing, "clean_json", None)
    assert callable(original), "moto patch 1: moto.cloudformation.parsing.clean_json is gone"

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and isinstance(resource_json.get("Fn::Sub"), list):
            template, variables = resource_json["Fn::Sub"]
            for name, value in variables.items():
                template = template.replace("${" + name + "}", str(clean_json(value, resources_map)))
            return original({"Fn::Sub": template}, resources_map)
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json  # the module's own recursion looks the name up here


def patch_change_set_outputs() -> None:
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.parsing import OutputMap

    original = getattr(CloudFormationBackend, "execute_change_set", None)
    assert callable(original), "moto patch 2: CloudFormationBackend.execute_change_set is gone"

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            c for c in self.change_sets.values() if c.change_set_name == change_set_name
        )
        stack = self.stacks[change_set.stack_id]
        stack.template_dict = change_set.template_dict
        stack.output_map = OutputMap(stack.resource_map, change_set.template_dict, stack.stack_id)

    CloudFormationBackend.execute_change_set = execute_change_set


def main(port: int) -> None:
    patch_fn_sub_list_form()
    patch_change_set_outputs()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"moto server ready on 127.0.0.1:{port}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
