"""Runs moto_server with its DynamoDB operations serialised.

moto keeps each table in Python dictionaries without a lock, and its
TransactWriteItems copies and restores whole tables: under concurrent
requests two conditional writes can both succeed, which real DynamoDB never
allows. Holding one lock around every DynamoDB operation restores the
atomicity that parley's dedupe and idempotency rely on; all other services
stay as moto_server runs them.

moto also makes TransactWriteItems undoable by deep-copying every table it
names before it starts, which makes each transaction cost as much as the
table is large (a batch of thousands of writes takes hours). Here a
transaction instead keeps a copy of the items it names, the only ones it can
change, and puts them back when it is cancelled: the same outcome, at the
cost of the transaction's own items.
"""
import copy
import functools
import sys
import threading
import types

from moto.dynamodb import models as _models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import main

_lock = threading.RLock()
_in_transaction = False


def _deepcopy(x, memo=None):
    # Within a transaction a table is not copied: _transact_write_items
    # keeps its items instead.
    if _in_transaction and isinstance(x, Table):
        return x
    return copy.deepcopy(x, memo)


_models.copy = types.SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)


def _key(backend, op_type, op):
    table = backend.get_table(op["TableName"])
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _transact_write_items(original):
    @functools.wraps(original)
    def wrapper(self, transact_items, *args, **kwargs):
        global _in_transaction
        saved = []
        for item in transact_items:
            try:
                op_type, op = next(iter(item.items()))
                key = _key(self, op_type, op)
                current = self.get_item(op["TableName"], key)
            except Exception:
                # moto refuses the transaction itself, before it changes anything.
                continue
            saved.append((op["TableName"], key, None if current is None else copy.deepcopy(current.to_json()["Attributes"])))
        _in_transaction = True
        try:
            return original(self, transact_items, *args, **kwargs)
        except Exception:
            for table_name, key, attrs in reversed(saved):
                if attrs is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise
        finally:
            _in_transaction = False

    return wrapper


DynamoDBBackend.transact_write_items = _transact_write_items(DynamoDBBackend.transact_write_items)


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
