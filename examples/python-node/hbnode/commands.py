"""Stdin commands: one JSON object per line with "cmd".

    {"cmd":"subscribe","subject":"a.b"}          also "$hb.presence", optional "label_filter":{...}
    {"cmd":"unsubscribe","subject":"a.b"}
    {"cmd":"publish","subject":"a.b","payload":"text"}   or "payload_b64"
    {"cmd":"send","to":"node","payload":"text"}
    {"cmd":"request","to":"node","payload":"..."}  or "subject" instead of "to"
    {"cmd":"broadcast","payload":"..."}
    {"cmd":"stop-heartbeats"} / {"cmd":"start-heartbeats"}
    {"cmd":"drop"}                                close the socket without Goodbye (then reconnect)
    {"cmd":"goodbye","reason":"..."}              leave gracefully and exit
"""

import base64
import binascii
import json
from dataclasses import dataclass, field


class CommandError(ValueError):
    """A stdin line that is not a command."""


@dataclass
class Command:
    cmd: str
    subject: str = ""
    to: str = ""
    payload: str | None = None
    payload_b64: str | None = None
    reason: str = ""
    label_filter: dict[str, str] = field(default_factory=dict)

    def payload_bytes(self) -> bytes:
        """"payload" as UTF-8, or "payload_b64" decoded (CommandError if bad)."""
        if self.payload_b64 is not None:
            try:
                return base64.b64decode(self.payload_b64, validate=True)
            except binascii.Error as exc:
                raise CommandError(f"bad payload_b64: {exc}") from exc
        return (self.payload or "").encode()


def parse_command(line: str) -> Command:
    """Parses one stdin line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CommandError(f"not a JSON command: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("cmd"), str) or not obj["cmd"]:
        raise CommandError('missing "cmd"')
    label_filter = obj.get("label_filter") or {}
    if not isinstance(label_filter, dict) or not all(isinstance(v, str) for v in label_filter.values()):
        raise CommandError('"label_filter" must be an object of strings')
    text = {k: obj.get(k) for k in ("subject", "to", "reason")}
    for k, v in text.items():
        if v is not None and not isinstance(v, str):
            raise CommandError(f'"{k}" must be a string')
    for k in ("payload", "payload_b64"):
        if obj.get(k) is not None and not isinstance(obj[k], str):
            raise CommandError(f'"{k}" must be a string')
    return Command(
        cmd=obj["cmd"],
        subject=text["subject"] or "",
        to=text["to"] or "",
        payload=obj.get("payload"),
        payload_b64=obj.get("payload_b64"),
        reason=text["reason"] or "",
        label_filter=dict(label_filter),
    )
