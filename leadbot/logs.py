"""Logs: one record is one line, JSON by default, carrying the id of the request behind it.

Every record, ours or a library's, goes through structlog's ProcessorFormatter. JSON escapes
every control character, so nothing a client puts in a message id or body can forge a line;
the plain format (LOG_FORMAT=plain, for people reading `make run`) escapes them by hand.
"""

import logging
import re
import uuid

import structlog

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from a proxy or a client are kept when they look like ids (a UUID, a trace id); anything
# else is replaced, so a header cannot smuggle text into every line of a request.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators some viewers break on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Run on every record: the request id (and anything else bound), logger, level, time.
_SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def request_id_from(header_value):
    """The request id to use: the caller's when it looks like an id, else a new one."""
    if header_value and _SANE_REQUEST_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def current_request_id():
    """The request id bound for this request or task, or None outside one."""
    return structlog.contextvars.get_contextvars().get("request_id")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger writing through the standard `logging` tree under `name`."""
    return structlog.wrap_logger(
        logging.getLogger(name),
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
    )


def escape_controls(text):
    """`text` with every control character written as a visible escape (\\n, \\x1b, \\u2028)."""

    def visible(match):
        char = match.group()
        if char in _NAMED:
            return _NAMED[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _CONTROL.sub(visible, text)


def _essentials_first(logger, method_name, event_dict):
    """Time, level, logger, event and request id lead each line; the details follow."""
    first = ("timestamp", "level", "logger", "event", "request_id")
    ordered = {key: event_dict.pop(key) for key in first if key in event_dict}
    return {**ordered, **event_dict}


def _plain_line(logger, method_name, event_dict):
    """`time LEVEL logger event key=value … traceback`, on one line."""
    head = [
        event_dict.pop("timestamp", ""),
        str(event_dict.pop("level", method_name)).upper(),
        event_dict.pop("logger", ""),
        str(event_dict.pop("event", "")),
    ]
    exception = event_dict.pop("exception", "")
    fields = [f"{key}={value}" for key, value in event_dict.items()]
    return escape_controls(" ".join(part for part in [*head, *fields, exception] if part))


class _Formatter(structlog.stdlib.ProcessorFormatter):
    renderer = None

    def __init__(self, *args, **kwargs):
        super().__init__(
            *args,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _essentials_first,
                self.renderer,
            ],
            foreign_pre_chain=[
                *_SHARED_PROCESSORS,
                structlog.stdlib.ExtraAdder(allow=("status_code",)),
            ],
            **kwargs,
        )


class JSONFormatter(_Formatter):
    """One JSON object per record: what production writes and log pipelines read."""

    renderer = structlog.processors.JSONRenderer()


class PlainFormatter(_Formatter):
    """One readable line per record, control characters escaped (LOG_FORMAT=plain)."""

    renderer = staticmethod(_plain_line)


class SingleLineFormatter(logging.Formatter):
    """The standard formatter, with the rendered record (traceback included) on one line."""

    def format(self, record):
        return escape_controls(super().format(record))
