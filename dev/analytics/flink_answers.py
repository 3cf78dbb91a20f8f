"""Runs Flink SQL statements in PyFlink's local mini-cluster and prints a query's changelog.

Reads one JSON object on stdin: {"jars": [...], "statements": [...], "query": "..."}.
Executes the statements in order (DDL, views, SET), then runs the query and prints each
changelog row as one JSON line: [kind, column 1, column 2, ...], kind being +I, -U, +U or -D.
Folding the changelog into rows is the caller's job. Exits when the query ends (a bounded
read) or when stdin closes (the caller went away).
"""

import json
import sys
import threading
import traceback
import os
import re

from pyflink.common import Configuration
from pyflink.table import EnvironmentSettings, TableEnvironment

SET = re.compile(r"SET\s+'([^']+)'\s*=\s*'([^']*)'", re.IGNORECASE)
KINDS = {"INSERT": "+I", "UPDATE_BEFORE": "-U", "UPDATE_AFTER": "+U", "DELETE": "-D"}


def main():
    request = json.loads(sys.stdin.readline())
    try:
        run(request)
    except Exception as error:  # noqa: BLE001 -- one line for the caller, whatever failed
        traceback.print_exc()
        print(json.dumps(["error", describe(error)]), flush=True)
        os._exit(1)
    # Py4J's threads would keep the interpreter alive after a bounded query ended.
    os._exit(0)


def run(request):
    config = Configuration()
    config.set_string("pipeline.jars", ";".join("file://" + jar for jar in request["jars"]))
    config.set_string("parallelism.default", "1")
    settings = (
        EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(config).build()
    )
    env = TableEnvironment.create(settings)
    for statement in request["statements"]:
        # The SQL client's SET is not a statement executeSql() accepts: apply it as configuration.
        setting = SET.fullmatch(statement)
        if setting:
            env.get_config().set(setting.group(1), setting.group(2))
        else:
            env.execute_sql(statement)
    print(json.dumps(["ready"]), flush=True)
    # The caller closing stdin (or dying) ends the job: nothing else would stop a live query.
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    with env.execute_sql(request["query"]).collect() as results:
        for row in results:
            kind = KINDS[row.get_row_kind().name]
            print(json.dumps([kind, *[value for value in row]]), flush=True)
    print(json.dumps(["end"]), flush=True)


def describe(error):
    """The Java exception's message and its root cause, or Python's own first line."""
    java = getattr(error, "java_exception", None)
    try:
        causes = []
        while java is not None:
            causes.append(java.toString())
            java = java.getCause()
    except Exception:  # noqa: BLE001 -- the JVM may be gone
        causes = []
    if causes:
        return causes[0] if len(causes) == 1 else f"{causes[0]} (caused by {causes[-1]})"
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
