"""The student's functions and classes as the harness's tests see them: proxies that call the worker.

In the grading harness (instructor/grading/harness_plugin.py) the module
`tests.student_code` is replaced by `remote_module(...)`: the same names,
but each call goes through the Boundary (instructor/grading/boundary.py) to
the sandboxed worker and comes back as data. A function is a RemoteFunction;
a class is a RemoteClassMeta class whose objects live in the worker and are
known here by a handle (RemoteObject); their attributes are fetched and set
there. A kit helper that runs next to the student's code
(tests/student_code.py's HELPERS) is a RemoteFunction too.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

from instructor.grading.boundary import LOST_OBJECT, METHOD, Boundary, Handle, StudentCodeError


class RemoteFunction:
    """A student function (or a kit helper that runs next to the student's code)."""

    def __init__(self, boundary: Boundary, name: str, helper: bool = False):
        self._boundary, self.__name__, self.__qualname__ = boundary, name, name
        self._helper = helper

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        if self._helper and args and isinstance(args[0], str):
            # A helper runs the entry point its first argument names (diagnosis("softmax_loss_naive")):
            # one that timed out, or whose file cannot be imported, is not run again, by a helper either.
            self._boundary.check_entry(args[0])
        return self._boundary.call(self.__name__, {"op": "call", "name": self.__name__}, args, kwargs)

    def many(self, calls: list[tuple]) -> list:
        """[self(*args) for args in calls], sent at once (Boundary.call_many); tests/answers.py's `answers`."""
        __tracebackhide__ = True
        header = {"op": "call", "name": self.__name__}
        return self._boundary.call_many(self.__name__, header, [(tuple(args), {}) for args in calls])

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


class RemoteMethod:
    def __init__(self, obj: RemoteObject, name: str):
        self._obj, self.__name__ = obj, name

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        obj = self._obj
        key = f"{type(obj).__name__}.{self.__name__}"
        return obj._boundary_call(key, {"op": "method", "name": self.__name__}, args, kwargs)


class RemoteClassMeta(type):
    """Calling the class makes the object in the worker; class attributes are class methods there."""

    def __call__(cls, *args, **kwargs):
        __tracebackhide__ = True
        boundary = cls._boundary
        return boundary.call(f"{cls.__name__}()", {"op": "new", "name": cls.__name__}, args, kwargs)

    def __getattr__(cls, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        boundary = cls._boundary

        def class_method(*args, **kwargs):
            __tracebackhide__ = True
            return boundary.call(
                f"{cls.__name__}.{name}", {"op": "classmethod", "cls": cls.__name__, "name": name}, args, kwargs
            )

        class_method.__name__ = name
        return class_method


class RemoteObject(Handle, metaclass=RemoteClassMeta):
    """An object that lives in the worker; attributes are fetched and set there."""

    _boundary: Boundary

    def _boundary_call(self, key: str, header: dict, args=(), kwargs=None):
        __tracebackhide__ = True
        boundary = type(self)._boundary
        if self._generation != boundary.generation:
            raise StudentCodeError(LOST_OBJECT)
        return boundary.call(key, {**header, "h": self._handle}, args, kwargs)

    def __getattr__(self, name: str):
        __tracebackhide__ = True
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._boundary_call(f"{type(self).__name__}.{name}", {"op": "getattr", "name": name})
        return RemoteMethod(self, name) if value is METHOD else value

    def __setattr__(self, name: str, value) -> None:
        __tracebackhide__ = True
        self._boundary_call(f"{type(self).__name__}.{name}", {"op": "setattr", "name": name}, (value,))

    def __repr__(self) -> str:
        return f"<student {type(self).__name__} object>"


def remote_module(student_code: types.ModuleType, boundary: Boundary) -> types.ModuleType:
    """A stand-in for tests/student_code.py whose names call into the worker (of the submission
    `boundary` is configured for: one module serves every submission a warm harness grades)."""
    module = types.ModuleType(student_code.__name__, student_code.__doc__)
    module.__file__ = student_code.__file__
    module.STUDENT_API, module.HELPERS = student_code.STUDENT_API, student_code.HELPERS
    classes: dict[str, type] = {}
    boundary.modules = {name: module_name for name, (module_name, _, _) in student_code.STUDENT_API.items()}
    boundary.module_order = list(dict.fromkeys(boundary.modules.values()))
    for name, (_, kind, base) in student_code.STUDENT_API.items():
        if kind == "function":
            setattr(module, name, RemoteFunction(boundary, name))
        elif kind == "exception":
            parent = getattr(sys.modules["builtins"], base or "Exception", Exception)
            exc_type = type(name, (parent,), {"__module__": "tests.student_code"})
            boundary.kit_exceptions[name] = exc_type
            setattr(module, name, exc_type)
    for name, (_, kind, base) in student_code.STUDENT_API.items():
        if kind == "class":
            parents = (classes[base],) if base in classes else (RemoteObject,)
            classes[name] = RemoteClassMeta(name, parents, {"_boundary": boundary, "__module__": "tests.student_code"})
            setattr(module, name, classes[name])
    boundary.classes, boundary.object_class = classes, RemoteObject
    for name in student_code.HELPERS:
        setattr(module, name, RemoteFunction(boundary, name, helper=True))

    def source_text(path: str) -> str:
        """The student's file as text, read here (never run here)."""
        return (Path(boundary.config["submission"]) / path).read_text(encoding="utf-8")

    module.source_text = source_text
    module.KIT_ROOT = student_code.KIT_ROOT
    return module
