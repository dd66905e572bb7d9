"""Config loading, as in the real Argos app (argos/conf/__init__.py).

For each name in NAMES: load argos.conf.default.<name>, then override it with
argos.conf.<name> when present (the modules the app role templates). Values
are exposed as APP[...] and CELERY[...]. Like the real loader, string values
are passed through str.format(**globals()).
"""
import importlib
import inspect

PACKAGE = __package__
NAMES = ["celery", "app"]


def load_conf_module(name, key=None):
    namespace = globals().setdefault(key.upper(), {}) if key else globals()
    module = importlib.import_module("%s.%s" % (PACKAGE, name))
    for k, v in inspect.getmembers(module):
        if k.isupper():
            namespace[k] = v.format(**globals()) if isinstance(v, str) else v


for _name in NAMES:
    load_conf_module("default.%s" % _name, key=_name)
    try:
        load_conf_module(_name, key=_name)
    except ImportError:
        pass
