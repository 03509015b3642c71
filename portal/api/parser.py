"""Request bodies: strict JSON, and always an object.

Python's ``json`` accepts ``NaN`` and ``Infinity``, which are not JSON; and ninja would try to read fields out of
a list or a string. Both are refused here as a malformed body (400), before any schema sees them.
"""

import json

from ninja.parser import Parser


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


class ObjectParser(Parser):
    def parse_body(self, request):
        data = json.loads(request.body, parse_constant=_refuse_constant)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data
