#!/usr/bin/env python3
"""Every code block of README.md and docs/*.md is run or compiled as shown, by its fence's tag:

  expr           a whole program: `gradc emit --dump=ir` checks it
  console        `$ gradc ...` lines are run (in a folder with a copy of examples/) and their
                 output must be the lines that follow, `...` standing for any text; other `$`
                 lines (cc) are shown, not run
  c++            statements: compiled (C++17) inside a function, after #include <gradc/gradc.h>
  c              declarations: compiled (C99) after <stddef.h> and <stdint.h>
  expr-fragment, c++-synopsis, sh, cmake, text
                 not run: pieces of programs, the API's outline, set-up commands (run by CI
                 itself), CMake (built by the install tests), command synopses and output

A block without a tag fails the test: each new block must say how it is checked.
Usage: check_snippets.py GRADC CXX CC SOURCE_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

GRADC, CXX, CC, SRC = sys.argv[1:5]
GRADC, SRC = os.path.abspath(GRADC), os.path.abspath(SRC)
NOT_RUN = {"expr-fragment", "c++-synopsis", "sh", "cmake", "text"}
# Files the console blocks name that are not in the repository.
FIXTURES = {"bad.expr": "def f(W: [4, 2], x: [3]) = sum(W @ x)\n"}
failures = []
counts = {}


def blocks(path):
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            tag = lines[i][3:].strip()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            yield i + 1, tag, lines[i + 1:j]
            i = j + 1
        else:
            i += 1


def matches(expected, got):
    """Line by line; `...` in an expected line matches any text."""
    got_lines = got.rstrip("\n").split("\n") if got.strip() else []
    if len(expected) != len(got_lines):
        return False
    for e, g in zip(expected, got_lines):
        pattern = "^" + ".*".join(re.escape(part) for part in e.split("...")) + "$"
        if not re.match(pattern, g):
            return False
    return True


def run_console(where, body, workdir):
    i = 0
    while i < len(body):
        line = body[i]
        if not line.startswith("$ "):
            failures.append(f"{where}: output without a command: {line!r}")
            return
        j = i + 1
        while j < len(body) and not body[j].startswith("$ "):
            j += 1
        command, expected = line[2:], [l for l in body[i + 1:j]]
        while expected and not expected[-1].strip():
            expected.pop()
        if command.startswith("gradc "):
            args = command.split()[1:]
            r = subprocess.run([GRADC] + args, cwd=workdir, capture_output=True, text=True,
                               env=dict(os.environ, GRADC_CACHE="off"))
            out = r.stdout + r.stderr
            if expected and not matches(expected, out):
                failures.append(f"{where}: `{command}` printed:\n{out}--- the docs show:\n" + "\n".join(expected))
            elif not expected and r.returncode != 0:
                failures.append(f"{where}: `{command}` failed ({r.returncode}):\n{out}")
        i = j


def compile_code(where, body, lang, workdir):
    if lang == "c++":
        text = "#include <gradc/gradc.h>\n#include <cstddef>\n#include <vector>\nvoid snippet() {\n" + "\n".join(body) + "\n}\n"
        name, cmd = "snippet.cpp", [CXX, "-std=c++17", "-fsyntax-only", "-Wall", "-Wno-unused-variable",
                                   "-I", os.path.join(SRC, "compiler", "include")]
    else:
        text = "#include <stddef.h>\n#include <stdint.h>\n" + "\n".join(body) + "\n"
        name, cmd = "snippet.c", [CC, "-std=c99", "-fsyntax-only", "-Wall", "-Wextra", "-pedantic"]
    path = os.path.join(workdir, name)
    open(path, "w").write(text)
    r = subprocess.run(cmd + [path], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"{where}: does not compile as shown:\n{r.stderr}")


def main():
    workdir = tempfile.mkdtemp()
    shutil.copytree(os.path.join(SRC, "examples"), os.path.join(workdir, "examples"))
    for name, text in FIXTURES.items():
        open(os.path.join(workdir, name), "w").write(text)
    files = [os.path.join(SRC, "README.md")] + sorted(glob.glob(os.path.join(SRC, "docs", "*.md")))
    for path in files:
        for line, tag, body in blocks(path):
            where = f"{os.path.relpath(path, SRC)}:{line}"
            counts[tag or "(none)"] = counts.get(tag or "(none)", 0) + 1
            if tag == "expr":
                program = os.path.join(workdir, "snippet.expr")
                open(program, "w").write("\n".join(body) + "\n")
                r = subprocess.run([GRADC, "emit", program, "--dump=ir"], capture_output=True, text=True)
                if r.returncode != 0:
                    failures.append(f"{where}: the program does not compile:\n{r.stderr}")
            elif tag == "console":
                run_console(where, body, workdir)
            elif tag in ("c++", "c"):
                compile_code(where, body, tag, workdir)
            elif tag not in NOT_RUN:
                failures.append(f"{where}: a code block tagged {tag!r}: tag it expr, console, c++, c, or one of "
                                f"{sorted(NOT_RUN)} (see tests/docs/check_snippets.py)")
    print("blocks:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for f in failures:
        print("FAIL " + f + "\n")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


sys.exit(main())
