#!/usr/bin/env python3
"""Writes the seeds of the `compose` fuzz target (see `paperpost::fuzzing::compose` for the
layout: fields separated by 0xFF bytes, the reader's 7 fields, then 7 per paper)."""
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compose")
SEP = b"\xff"


def paper(switches, title, abstract, authors, reasons, note, extras):
    return [bytes([switches]), title.encode(), abstract.encode(),
            "\n".join(authors).encode(), "\n".join(reasons).encode(), note.encode(),
            "\n".join(extras).encode()]


def seed(name, switches, email, reader_name, topics, token, note, message_id, papers):
    fields = [bytes([switches]), email.encode(), reader_name.encode(), topics.encode(),
              token.encode(), note.encode(), message_id.encode()]
    for p in papers:
        fields += p
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(SEP.join(fields))


P1 = paper(0, "Scaling Laws for $\\mathcal{O}(n^2)$ Attention",
           "We study long contexts. Results: 3\u00d7 faster.\nSecond line.",
           ["Ada Lovelace", "Alan Turing"], ["diffusion model", "cs.CL"], "",
           ["A one-line summary.", "Accepted at NeurIPS", "J. ML 1 (2026)", "10.1000/xyz",
            "https://github.com/example/code", "https://example.org/project", "cs.CL cs.AI"])
P2 = paper(2, "Editor's pick: \u00c9t\u00e9 \u2014 \u65e5\u672c\u8a9e",
           "An abstract with <b>html</b> & entities &amp; a very long word " + "x" * 300,
           ["\u0141ukasz Kaiser"], ["trending"], "Read this one first.", [])
P3 = paper(1, "More like what you liked", "Short.", ["Grace Hopper"],
           ["because you liked 2411.00001"], "", ["", "", "", "", "javascript:alert(1)"])
TOKEN = "0123456789abcdef0123456789abcdef"

# switches: bit 0 full abstract, 1 no VERP bounce address, 2 DKIM, 3 daily, 4 raw Message-ID.
seed("plain.bin", 0, "ada@example.org", "Ada Lovelace", "\"diffusion model\", cat:cs.CL",
     TOKEN, "A week of long contexts.", "", [P1, P2, P3])
seed("crlf_name.bin", 0b101, "mallory@example.org", "Mal\r\nlory", "", TOKEN, "", "", [P1])
seed("unicode_name_dkim_daily.bin", 0b1101, "li@b\u00fccher.example",
     "\u674e\u98de\u98de \"Fei-Fei\" <x@y>, \u200fRTL", "llm, -survey", "abc",
     "Note\r\nwith CRLF", "", [P2, P1])
seed("bidi_name.bin", 0, "eve@example.org", "Eve\u202eoG", "", "tok", "", "", [P3])
seed("bad_message_id.bin", 0b10000, "bob@example.org", "Bob", "", "0123456789abcdef", "",
     "<a b@example.org>\r\nBcc: x@example.net", [P1])
seed("long_token.bin", 0b10, "carol@example.org", "", "", "T" * 2000, "", "", [P1])
