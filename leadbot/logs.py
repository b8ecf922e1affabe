"""Log formatting: one record is one line, whatever the client put in a message id or body."""

import logging
import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators some viewers break on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text):
    """`text` with every control character written as a visible escape (\\n, \\x1b, \\u2028)."""

    def visible(match):
        char = match.group()
        if char in _NAMED:
            return _NAMED[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _CONTROL.sub(visible, text)


class SingleLineFormatter(logging.Formatter):
    """The standard formatter, with the rendered record (traceback included) on one line."""

    def format(self, record):
        return escape_controls(super().format(record))
