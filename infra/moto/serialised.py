"""Runs moto_server with its DynamoDB operations serialised.

moto keeps each table in Python dictionaries without a lock, and its
TransactWriteItems copies and restores whole tables: under concurrent
requests two conditional writes can both succeed, which real DynamoDB never
allows. Holding one lock around every DynamoDB operation restores the
atomicity that parley's dedupe and idempotency rely on; all other services
stay as moto_server runs them.
"""
import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_lock = threading.RLock()


def _serialised(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _lock:
            return fn(*args, **kwargs)

    return wrapper


for _name in (
    "get_item", "put_item", "update_item", "delete_item", "query", "scan",
    "batch_get_item", "batch_write_item", "transact_get_items", "transact_write_items",
):
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))

sys.argv[0] = "moto_server"
main(sys.argv[1:])
