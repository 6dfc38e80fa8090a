#!/usr/bin/env python3
"""A real SMTP server for paperpost's tests: aiosmtpd on 127.0.0.1, port chosen by the OS,
optionally scripted to misbehave per recipient and per connection.

usage: smtp_server.py --out DIR [--script FILE] [--no-save]

Prints "PORT <n>" on stdout once listening, then serves until SIGTERM/SIGINT.
Every accepted message is appended to DIR/log.jsonl as {"to": [...], "from": ..., "message_id":
..., "file": ...} and (unless --no-save) written to DIR/<n>.eml. Every RCPT TO, accepted or
not, is appended to DIR/rcpt.jsonl as {"rcpt": ..., "step": ...} (what the client tried).
DIR/sessions.json holds {"open", "max_open", "total"}: SMTP sessions open now, the most open
at once, and all so far.

Script (JSON): {"recipients": {"addr": [step, step, ...]}, "connect": [step, ...],
                "pipelining": true|false}
"pipelining": true advertises PIPELINING (RFC 2920) in the EHLO reply; aiosmtpd reads
commands in order from its stream, so pipelined commands are answered in order.
Each attempt for that recipient (or each new connection) takes the next step; the last one
repeats. Steps for recipients:
  "ok"              accept
  "451 rcpt" / "550 rcpt"   refuse at RCPT TO with that code
  "451 data" / "554 data"   refuse after the body with that code
  "drop"            close the connection after the body, without a reply
  "slow"            wait 30 s before replying to the body (longer than the client timeout)
Steps for connections: "ok", or "421" (greet with 421 and close).
"""
import argparse
import asyncio
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Script:
    def __init__(self, spec):
        self.recipients = {k.lower(): list(v) for k, v in spec.get("recipients", {}).items()}
        self.connect = list(spec.get("connect", []))
        self.pipelining = bool(spec.get("pipelining", False))
        self.counts = {}

    def _next(self, key, steps):
        if not steps:
            return "ok"
        n = self.counts.get(key, 0)
        self.counts[key] = n + 1
        return steps[min(n, len(steps) - 1)]

    def for_connection(self):
        return self._next("__connect__", self.connect)

    def for_recipient(self, addr):
        return self._next(addr.lower(), self.recipients.get(addr.lower(), []))


class Handler:
    def __init__(self, out, script, save):
        self.out = out
        self.script = script
        self.save = save
        self.n = 0
        self.log = open(os.path.join(out, "log.jsonl"), "a", buffering=1)
        self.rcpt_log = open(os.path.join(out, "rcpt.jsonl"), "a", buffering=1)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.script.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        step = self.script.for_recipient(address)
        self.rcpt_log.write(json.dumps({"rcpt": address, "step": step}) + "\n")
        envelope.rcpt_steps = getattr(envelope, "rcpt_steps", {})
        envelope.rcpt_steps[address] = step
        if step.endswith(" rcpt"):
            code = step.split()[0]
            return f"{code} {'try again later' if code.startswith('4') else 'no such user'} (scripted)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        steps = [envelope.rcpt_steps.get(a, "ok") for a in envelope.rcpt_tos]
        step = next((s for s in steps if s != "ok"), "ok")
        if step == "drop":
            server.transport.abort()
            await asyncio.sleep(3600)
        if step == "slow":
            await asyncio.sleep(30)
        if step.endswith(" data"):
            code = step.split()[0]
            return f"{code} {'try again later' if code.startswith('4') else 'message refused'} (scripted)"
        self.n += 1
        name = None
        if self.save:
            name = f"{self.n:06d}.eml"
            with open(os.path.join(self.out, name), "wb") as f:
                f.write(envelope.original_content or envelope.content)
        msgid = None
        content = envelope.original_content or envelope.content
        head = content.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                msgid = line.split(b":", 1)[1].strip().decode()
        self.log.write(json.dumps({"to": envelope.rcpt_tos, "from": envelope.mail_from,
                                   "message_id": msgid, "file": name}) + "\n")
        return "250 OK queued"


class Sessions:
    """Counts SMTP sessions: open now, most open at once, total; kept in DIR/sessions.json."""

    def __init__(self, out):
        self.path = os.path.join(out, "sessions.json")
        self.open = self.max_open = self.total = 0

    def change(self, delta):
        self.open += delta
        if delta > 0:
            self.total += 1
        self.max_open = max(self.max_open, self.open)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"open": self.open, "max_open": self.max_open, "total": self.total}, f)
        os.replace(tmp, self.path)


class CountedSMTP(SMTP):
    sessions = None

    def connection_made(self, transport):
        self.sessions.change(1)
        super().connection_made(transport)

    def connection_lost(self, exc):
        self.sessions.change(-1)
        super().connection_lost(exc)


class Refuse421(asyncio.Protocol):
    def connection_made(self, transport):
        transport.write(b"421 too busy, try later (scripted)\r\n")
        transport.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--script")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    spec = {}
    if args.script:
        with open(args.script) as f:
            spec = json.load(f)
    script = Script(spec)
    handler = Handler(args.out, script, not args.no_save)
    CountedSMTP.sessions = Sessions(args.out)

    def factory():
        if script.for_connection() == "421":
            return Refuse421()
        return CountedSMTP(handler, hostname="sink.test", data_size_limit=0, enable_SMTPUTF8=True,
                    decode_data=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
