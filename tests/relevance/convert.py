#!/usr/bin/env python3
"""Writes the relevance corpus's converted files from the registry packages they come from.

The benchmark reads arXiv API answers byte for byte; three sources are not in that form and
are converted here, so the conversion can be checked and rerun instead of trusted:

  rustdoc  A recorded arXiv API answer that a crate keeps inside a Rust doc string, each line
           prefixed with `# ` and wrapped in `r#"` … `"#;` (rsxiv's scripts/generate_test_xml.sh
           made them so with sed). The answer is written back as it was recorded.
  pubmed   PubMed records (MEDLINE XML, gzipped), the ones whose PMIDs a list names, as
           paperpost's JSON list format: title, abstract (labelled sections joined as
           "LABEL: text"), authors ("ForeName LastName"), `url` the PubMed page.
  bibtex   The @article entries with an abstract and a DOI of a BibTeX file, as paperpost's
           JSON list format, `url` the DOI's resolver address; TeX accents and the few text
           macros the file uses are turned into letters, braces dropped, math left as typed.

Usage (the paths are the unpacked packages; tests/fixtures/README.md names package,
version, file and checksum of every input and output):

  convert.py rustdoc IN.txt OUT.xml
  convert.py pubmed IN.xml.gz PMIDS.txt OUT.json
  convert.py bibtex IN.bib OUT.json

Only the standard library; the output is deterministic (same input, same bytes).
"""
import gzip
import json
import re
import sys
import xml.etree.ElementTree as ET


def rustdoc(src, dst):
    lines = open(src, encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    body = []
    for n, line in enumerate(lines, 1):
        if line == "#":
            line = ""
        elif line.startswith("# "):
            line = line[2:]
        else:
            sys.exit(f"{src}:{n}: a doc-string line does not start with '# '")
        body.append(line)
    if not body[0].startswith('r#"'):
        sys.exit(f"{src}:1: does not open the raw string with r#\"")
    body[0] = body[0][3:]
    last = re.sub(r'"#;?$', "", body[-1])
    if last == body[-1]:
        sys.exit(f"{src}:{len(body)}: does not close the raw string with \"#")
    body[-1] = last
    with open(dst, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(body) + "\n")


def text(element):
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip() if element is not None else ""


def pubmed(src, pmid_list, dst):
    wanted = []
    for n, line in enumerate(open(pmid_list, encoding="utf-8"), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.isdigit():
            sys.exit(f"{pmid_list}:{n}: `{line}` is not a PMID")
        wanted.append(line)
    found = {}
    for _, el in ET.iterparse(gzip.open(src), events=("end",)):
        if el.tag != "PubmedArticle":
            continue
        citation = el.find("MedlineCitation")
        pmid = citation.findtext("PMID")
        if pmid in wanted:
            article = citation.find("Article")
            sections = []
            for part in article.findall("Abstract/AbstractText"):
                label = part.get("Label")
                sections.append((f"{label}: " if label else "") + text(part))
            authors = []
            for a in article.findall("AuthorList/Author"):
                last, first = a.findtext("LastName"), a.findtext("ForeName")
                if last:
                    authors.append(f"{first} {last}" if first else last)
                elif a.findtext("CollectiveName"):
                    authors.append(text(a.find("CollectiveName")))
            found[pmid] = {
                "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
                "title": text(article.find("ArticleTitle")),
                "abstract": " ".join(sections),
                "authors": authors,
            }
        el.clear()
    missing = [p for p in wanted if p not in found or not found[p]["abstract"]]
    if missing:
        sys.exit(f"{src}: no record with an abstract for PMIDs {', '.join(missing)}")
    write_list(dst, [found[p] for p in wanted])


ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
    "c": "\u0327", "k": "\u0328", "=": "\u0304", ".": "\u0307", "v": "\u030c", "u": "\u0306",
}
LETTERS = {"ss": "ß", "l": "ł", "L": "Ł", "o": "ø", "O": "Ø", "ae": "æ", "aa": "å", "i": "ı"}
MACROS = {"textendash": "–", "textemdash": "—", "texttimes": "×", "textdegree": "°", "&": "&", "%": "%"}


def detex(s):
    import unicodedata

    # \"{o}, {\"o}, \'e, \c c, \k{e} → the accented letter
    s = re.sub(
        r"\{?\\([\"'`^~=.]|[ckvu](?=[\s{]))\s*\{?([A-Za-z])\}?\}?",
        lambda m: unicodedata.normalize("NFC", m.group(2) + ACCENTS[m.group(1)]),
        s,
    )
    s = re.sub(r"\{?\\(ss|ae|aa|[lLoOi])\}?(?![A-Za-z])", lambda m: LETTERS[m.group(1)], s)
    s = re.sub(
        r"\\(textendash|textemdash|texttimes|textdegree)(\{\})?",
        lambda m: MACROS[m.group(1)],
        s,
    )
    s = re.sub(r"\\([&%])", lambda m: m.group(1), s)
    s = s.replace("---", "—").replace("--", "–")
    # braces that only protect case, outside math
    parts = re.split(r"(\$[^$]*\$)", s)
    s = "".join(p if p.startswith("$") else p.replace("{", "").replace("}", "") for p in parts)
    return re.sub(r"\s+", " ", s).strip()


def bib_fields(body):
    """`key = {value}` pairs of one entry, braces balanced."""
    fields, i = {}, 0
    while True:
        bare = re.compile(r"\s*,?\s*([A-Za-z_-]+)\s*=\s*([A-Za-z0-9]+)\s*(?=,|$)").match(body, i)
        if bare:  # month = feb, year = 2011
            fields[bare.group(1).lower()] = bare.group(2)
            i = bare.end()
            continue
        m = re.compile(r"\s*,?\s*([A-Za-z_-]+)\s*=\s*\{").match(body, i)
        if not m:
            break
        depth, j = 1, m.end()
        while depth:
            if j >= len(body):
                raise ValueError(f"unbalanced braces in field {m.group(1)}")
            depth += {"{": 1, "}": -1}.get(body[j], 0)
            j += 1
        fields[m.group(1).lower()] = body[m.end() : j - 1]
        i = j
    return fields


def bibtex(src, dst):
    source = open(src, encoding="utf-8").read()
    papers = []
    for m in re.finditer(r"@(\w+)\{([^,]+),", source):
        kind = m.group(1).lower()
        start = m.end()
        depth, j = 1, source.index("{", m.start()) + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(source[j], 0)
            j += 1
        fields = bib_fields(source[start : j - 1])
        if kind != "article" or "abstract" not in fields or "doi" not in fields:
            continue
        names = [n.strip() for n in re.split(r"\s+and\s+", fields.get("author", "")) if n.strip()]
        authors = []
        for n in names:
            last, _, first = n.partition(",")
            authors.append(detex(f"{first.strip()} {last.strip()}".strip()))
        papers.append(
            {
                "url": f"https://doi.org/{fields['doi'].strip()}",
                "title": detex(fields["title"]),
                "abstract": detex(fields["abstract"]),
                "authors": authors,
            }
        )
    write_list(dst, papers)


def write_list(dst, papers):
    with open(dst, "w", encoding="utf-8", newline="\n") as out:
        json.dump({"papers": papers}, out, ensure_ascii=False, indent=1)
        out.write("\n")


if __name__ == "__main__":
    commands = {"rustdoc": (rustdoc, 2), "pubmed": (pubmed, 3), "bibtex": (bibtex, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) != commands[sys.argv[1]][1] + 2:
        sys.exit(__doc__)
    command, _ = commands[sys.argv[1]]
    command(*sys.argv[2:])
