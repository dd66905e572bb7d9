"""argos-cloud's record of a playbook run.

Writes one JSON object per line to the file named by ARGOS_EVENTS_FILE: each
play and task as it starts, each host's result, and the final per-host
stats. argos-cloud turns it into the per-host deploy summary. Results of
tasks marked no_log carry no message. Every event carries `at`, seconds
since the run started, from which argos-cloud tells where the time went.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: argos_events
    type: notification
    short_description: task results as JSON lines, for argos-cloud
    description:
      - Appends one JSON object per event to the file named by ARGOS_EVENTS_FILE.
    requirements:
      - the ARGOS_EVENTS_FILE environment variable
"""

MESSAGE_LIMIT = 4000


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "argos_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        path = os.environ.get("ARGOS_EVENTS_FILE")
        self._out = open(path, "a", encoding="utf-8") if path else None
        self._started = time.monotonic()

    def _emit(self, **event):
        if self._out is not None:
            event["at"] = round(time.monotonic() - self._started, 3)
            self._out.write(json.dumps(event) + "\n")
            self._out.flush()

    def v2_playbook_on_play_start(self, play):
        self._emit(event="play", name=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit(event="task", name=task.get_name())

    def _result(self, kind, result):
        raw = result._result
        if raw.get("_ansible_no_log") or result._task.no_log:
            message = "(hidden: the task is no_log)"
        else:
            message = raw.get("msg") or raw.get("stderr") or raw.get("reason") or ""
        self._emit(
            event=kind,
            host=result._host.get_name(),
            task=result._task.get_name(),
            changed=bool(raw.get("changed")),
            msg=str(message)[:MESSAGE_LIMIT],
        )

    def v2_runner_on_ok(self, result):
        self._result("ok", result)
        # The Python Ansible found on the host: later steps of the same run
        # are told it, instead of discovering it again (see deploy/mod.rs).
        facts = result._result.get("ansible_facts") or {}
        found = facts.get("discovered_interpreter_python")
        if isinstance(found, str) and found:
            self._emit(event="interpreter", host=result._host.get_name(), path=found)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result)

    def v2_playbook_on_stats(self, stats):
        hosts = {host: stats.summarize(host) for host in sorted(stats.processed.keys())}
        self._emit(event="stats", hosts=hosts)
