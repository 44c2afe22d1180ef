#!/usr/bin/env python3
"""check_graph.py GRADC DIR [--update]: `gradc graph` on the lecture's functions.

- The DOT of each function at the lecture's point equals DIR/NAME.dot (--update rewrites them).
- The DOT is parsed (not compared as pixels): every edge out of a parameter carries that
  parameter's value and its gradient from `gradc run --json`, the edge into the result carries
  the value and the seed 1, and at every scalar gate the picture obeys the chain rule: each
  value is its gate applied to its inputs, and each input's gradient is the sum, over the gates
  it feeds, of their gradient times the gate's local derivative.
- SVG is well-formed XML with the source locations as tooltips; PNG and PDF have their magic.
- Bad input, an unwritable -o and an unknown format are clear errors; a long chain is grouped.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

GRADC, DIR = sys.argv[1], sys.argv[2]
UPDATE = "--update" in sys.argv
LECTURE = os.path.join(DIR, "..", "lecture")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def gradc(*args, cwd=LECTURE):
    env = dict(os.environ, GRADC_CACHE="off")
    return subprocess.run([GRADC, *args], cwd=cwd, capture_output=True, text=False, env=env, timeout=120)


def tokens(text):
    """DOT tokens: identifiers, quoted strings, <html> labels (balanced), punctuation."""
    i, out = 0, []
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(("str", text[i + 1:j].replace('\\"', '"').replace("\\\n", "")))
            i = j + 1
        elif c == "<":
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(("html", text[i + 1:j - 1]))
            i = j
        elif text.startswith("->", i):
            out.append(("->", "->"))
            i += 2
        elif c in "[]{};,=":
            out.append((c, c))
            i += 1
        else:
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] in "_.-") and not text.startswith("->", j):
                j += 1
            out.append(("id", text[i:j]))
            i = j
    return out


def parse_edges(text):
    """(from, to, attrs) for every `nA -> nB [...]`."""
    toks, out = tokens(text), []
    for k in range(len(toks) - 2):
        if toks[k][0] == "id" and toks[k + 1][0] == "->":
            a, j = {}, k + 3
            if j < len(toks) and toks[j][0] == "[":
                j += 1
                while toks[j][0] != "]":
                    a[toks[j][1]] = toks[j + 2][1]
                    j += 3
                    if toks[j][0] == ",":
                        j += 1
            out.append((toks[k][1], toks[k + 2][1], a))
    return out


def label_numbers(html):
    """(value, gradient) of an edge label: JSON numbers or nested arrays, or None."""
    found = re.findall(r'<font color="(darkgreen|red)">(.*?)</font>', html or "")
    parsed = {}
    for color, text in found:
        text = text.replace("inf", "Infinity").replace("nan", "NaN")
        parsed[color] = json.loads(text)
    return parsed.get("darkgreen"), parsed.get("red")


def flat(v):
    if isinstance(v, list):
        return [x for e in v for x in flat(e)]
    return [v]


def same(a, b):
    return flat(a) == flat(b)


# --- the lecture's functions, golden and checked -------------------------------------------
with open(os.path.join(LECTURE, "lecture4.json")) as f:
    cases = json.load(f)
for case in cases:
    fn = case["fn"]
    at = []
    for name, v in case["at"].items():
        at += ["--at", name + "=" + ",".join(repr(float(x)) for x in flat(v))]
    dims = [a for n, v in case.get("dims", {}).items() for a in ("--dim", f"{n}={v}")]
    r = gradc("graph", "lecture4.expr", "--fn", fn, *at, *dims)
    if r.returncode != 0:
        fail(f"{fn}: gradc graph exited {r.returncode}: {r.stderr.decode()}")
        continue
    dot = r.stdout.decode()
    golden = os.path.join(DIR, fn + ".dot")
    if UPDATE:
        with open(golden, "w") as f:
            f.write(dot)
    elif not os.path.exists(golden) or open(golden).read() != dot:
        fail(f"{fn}: the DOT differs from {golden} (rerun with --update after checking it)")
    run = json.loads(gradc("run", "lecture4.expr", "--fn", fn, *at, *dims, "--json").stdout)
    nodes = {}
    for m in re.finditer(r"\t(n\d+)\t\[((?:[^\[\]]|\[[^\]]*\])*)\];", dot):
        nodes[m.group(1)] = m.group(2)
    label = {n: (re.search(r'label=("(?:[^"\\]|\\.)*"|[^,\s]+)', a) or [None, ""])[1].strip('"')
             for n, a in nodes.items()}
    edges = parse_edges(dot)
    output = [n for n, l in label.items() if l == fn]
    seen_params = set()
    for src, dst, a in edges:
        value, grad = label_numbers(a.get("label"))
        p = label.get(src, "").split("\n")[0]
        if p in case["at"]:
            seen_params.add(p)
            if not same(value, case["at"][p]) or not same(grad, run["grad"][p]):
                fail(f"{fn}: edge from {p} carries {value} / {grad}, gradc run says {case['at'][p]} / {run['grad'][p]}")
        if dst in output and (not same(value, run["value"]) or grad != 1):
            fail(f"{fn}: the result edge carries {value} / {grad}, gradc run says {run['value']} / 1")
    if seen_params != set(case["at"]):
        fail(f"{fn}: parameters {sorted(set(case['at']) - seen_params)} have no edge")
    # The chain rule at each scalar gate, from the picture's own numbers.
    ins, outs = {}, {}
    for src, dst, a in edges:
        value, grad = label_numbers(a.get("label"))
        ins.setdefault(dst, []).append((src, value, grad))
        outs.setdefault(src, []).append((dst, value, grad))
    local = {
        "+": (lambda a, b: a + b, lambda a, b: (1, 1)),
        "-": (lambda a, b: a - b, lambda a, b: (1, -1)),
        "*": (lambda a, b: a * b, lambda a, b: (b, a)),
        "/": (lambda a, b: a / b, lambda a, b: (1 / b, -a / (b * b))),
        "max": (max, lambda a, b: (1 if a >= b else 0, 0 if a >= b else 1)),
        "neg": (lambda a: -a, lambda a: (-1,)),
        "exp": (math.exp, lambda a: (math.exp(a),)),
    }
    checked = 0
    for n, l in label.items():
        op = l.split("\n")[0]
        if op not in local or n not in outs:
            continue
        inputs = ins.get(n, [])
        xs = [v for _, v, _ in inputs]
        out_value, out_grad = outs[n][0][1], outs[n][0][2]
        if not all(isinstance(x, (int, float)) for x in xs + [out_value, out_grad]):
            continue
        f, d = local[op]
        if not math.isclose(f(*xs), out_value, rel_tol=1e-15, abs_tol=1e-300):
            fail(f"{fn}: gate {op} of {xs} drawn as {out_value}")
        for (src, _, g), partial in zip(inputs, d(*xs)):
            if g is None:
                continue  # a constant: no gradient drawn
            # the input's gradient: its gates' gradients times their local derivatives, summed
            total = 0.0
            for dst, _, _ in outs[src]:
                dins = ins[dst]
                dop = label[dst].split("\n")[0]
                if dop not in local:
                    total = None
                    break
                dxs = [v for _, v, _ in dins]
                dgrad = outs[dst][0][2] if dst in outs else None
                if dgrad is None or not all(isinstance(x, (int, float)) for x in dxs):
                    total = None
                    break
                total += sum(dgrad * p for (s2, _, _), p in zip(dins, local[dop][1](*dxs)) if s2 == src)
            if total is not None and not math.isclose(total, g, rel_tol=1e-12, abs_tol=1e-15):
                fail(f"{fn}: the gradient into {label[src]!r} is {g}, the chain rule gives {total}")
        checked += 1
    if fn in ("simple", "gates") and checked < 2:
        fail(f"{fn}: only {checked} gates checked by the chain rule")
    print(f"{fn}: {len(edges)} edges, {checked} gates checked by the chain rule")

# The structure alone (no point): shapes, no numbers.
r = gradc("graph", "lecture4.expr", "--fn", "l2wx")
if r.returncode != 0 or "<font" in r.stdout.decode() or 'label="W\n[n, n]"' not in r.stdout.decode():
    fail("l2wx without a point: " + r.stderr.decode())

# The graph that is compiled: neuron's backward nodes (index_grad, the adds where a value fans
# out) and its gradient outputs, which carry what gradc run prints; then the same optimized.
at = ["--at", "w=2,-3,-3", "--at", "x=-1,-2"]
run = json.loads(gradc("run", "lecture4.expr", "--fn", "neuron", *at, "--json").stdout)
sizes = {}
for stage in ("grad", "opt"):
    r = gradc("graph", "lecture4.expr", "--fn", "neuron", *at, "--stage", stage)
    dot = r.stdout.decode()
    labels = dict(re.findall(r"\t(n\d+)\t\[label=(\w+|\"[^\"]*\")", dot))
    outputs = {v.strip('"'): k for k, v in labels.items() if v.strip('"') in ("neuron", "d_w", "d_x")}
    if r.returncode != 0 or set(outputs) != {"neuron", "d_w", "d_x"}:
        fail(f"--stage {stage}: exit {r.returncode}, outputs {sorted(outputs)}: {r.stderr.decode()}")
        continue
    if stage == "grad" and (labels.get("n0") is None or "index_grad" not in labels.values() or "add" not in labels.values()):
        fail(f"--stage grad: no adjoint nodes in {sorted(set(labels.values()))}")
    for src, dst, a in parse_edges(dot):
        value, _ = label_numbers(a.get("label"))
        for name, want in (("neuron", run["value"]), ("d_w", run["grad"]["w"]), ("d_x", run["grad"]["x"])):
            if dst == outputs[name] and not same(value, want):
                fail(f"--stage {stage}: {name} carries {value}, gradc run says {want}")
    sizes[stage] = len(labels)
    print(f"--stage {stage}: {len(labels)} nodes")
if sizes.get("opt", 0) > sizes.get("grad", 0):
    fail(f"--stage opt has more nodes than --stage grad: {sizes}")

# --expand: the sigmoid gate drawn open carries exactly the numbers of the neuron written
# gate by gate; calls inside calls open too, each in its own box.
def edge_labels(args, cwd=LECTURE):
    return sorted(a.get("label", "") for _, _, a in parse_edges(gradc("graph", *args, cwd=cwd).stdout.decode()))
ROOT_DIR = os.path.abspath(os.path.join(DIR, "..", ".."))
written = edge_labels(["examples/lecture4.expr", "--fn", "neuron", "--at", "w=2,-3,-3", "--at", "x=-1,-2"], ROOT_DIR)
opened = edge_labels(["examples/sigmoid_gate.expr", "--at", "w=2,-3,-3", "--at", "x=-1,-2", "--expand"], ROOT_DIR)
if written != opened or len(written) != 20:
    fail(f"--expand: the open sigmoid gate's edges differ from the neuron's: {opened} vs {written}")
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "calls.expr"), "w") as f:
        f.write("local def sq(v: [3]) = v * v\nlocal def twice(v: [3]) = sq(v) + sq(v)\n"
                "def f(x: [3]) = sum(twice(x) * 2)\n")
    dot = gradc("graph", "calls.expr", "--at", "x=1,2,3", "--expand", cwd=tmp).stdout.decode()
    labels = sorted(a.get("label", "") for _, _, a in parse_edges(dot))
    green = lambda v, g: f'<font color="darkgreen">{v}</font><br/><font color="red">{g}</font>'
    # sq(v) + sq(v) is one value: one sq box, used twice
    if dot.count("subgraph cluster_") != 2 or labels.count(green("[1, 2, 3]", "[8, 16, 24]")) != 2 or \
            labels.count(green("[1, 4, 9]", "[4, 4, 4]")) != 2 or \
            green("56", "1") not in labels:
        fail(f"--expand of calls inside calls: {dot}")

# What the compiler computes as one value is drawn once: exp(x) written twice is one exp gate
# used twice, x * 1 is x itself; the gradients on the edges then obey the chain rule.
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "twice.expr"), "w") as f:
        f.write("def f(x) = exp(x) + exp(x) + x * 1 + x * 3\n")
    dot = gradc("graph", "twice.expr", "--at", "x=0", cwd=tmp).stdout.decode()
    edges = [(src, dst, label_numbers(a.get("label"))) for src, dst, a in parse_edges(dot)]
    gates = re.findall(r"\t(n\d+)\t\[label=(\w+|\"[^\"]*\")", dot)
    from_x = [nums for src, _, nums in edges if src == "n0"]
    if [l for _, l in gates].count("exp") != 1 or [l for _, l in gates].count('"*"') != 1 or \
            any(nums != (0, 6) for nums in from_x) or len(from_x) != 3:
        fail(f"one value drawn once: {dot}")

# --- pictures -------------------------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    at = ["--at", "w=2,-3,-3", "--at", "x=-1,-2"]
    for ext, magic in (("svg", b"<?xml"), ("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF")):
        path = os.path.join(tmp, "neuron." + ext)
        r = gradc("graph", "lecture4.expr", "--fn", "neuron", *at, "-o", path)
        data = open(path, "rb").read() if os.path.exists(path) else b""
        if r.returncode != 0 or not data.startswith(magic) or len(data) < 2000:
            fail(f"neuron.{ext}: exit {r.returncode}, {len(data)} bytes: {r.stderr.decode()}")
        if ext == "svg":
            root = ET.fromstring(data)
            titles = [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("title")]
            if not any(t.startswith("lecture4.expr:9:") for t in titles):
                fail("neuron.svg: no tooltip names its source line")
    bad = os.path.join(tmp, "missing", "x.svg")
    r = gradc("graph", "lecture4.expr", "--fn", "simple", "-o", bad)
    want = f"gradc: error: cannot write '{bad}': No such file or directory\n"
    if r.returncode != 1 or r.stderr.decode() != want:
        fail(f"unwritable -o: exit {r.returncode}, {r.stderr.decode()!r}")
    r = gradc("graph", "lecture4.expr", "--fn", "simple", "-o", "x.jpg")
    want = "gradc: error: cannot tell the picture's format from 'x.jpg': name it .dot, .svg, .png or .pdf\n"
    if r.returncode != 2 or r.stderr.decode() != want:
        fail(f"unknown format: exit {r.returncode}, {r.stderr.decode()!r}")
    src = os.path.join(tmp, "bad.expr")
    with open(src, "w") as f:
        f.write("def f(x) = x +* 2\n")
    r = gradc("graph", "bad.expr", cwd=tmp)
    want = "bad.expr:1:15: error: unexpected '*', expected an expression\n  def f(x) = x +* 2\n                ^\n"
    if r.returncode != 1 or r.stderr.decode() != want:
        fail(f"syntax error: exit {r.returncode}, {r.stderr.decode()!r}")
    with open(src, "w") as f:
        f.write("def f(x: [3], k: const i64) = x[k] * 2\n")
    r = gradc("graph", "bad.expr", "--at", "x=1,2,3", "--at", "k=3", cwd=tmp)
    want = ("bad.expr:1:32: error: index k = 3 is out of range for the axis it indexes, of size 3\n"
            "  def f(x: [3], k: const i64) = x[k] * 2\n                                 ^\n")
    if r.returncode != 1 or r.stderr.decode() != want:
        fail(f"index out of range: exit {r.returncode}, {r.stderr.decode()!r}")
    # A long chain is grouped: at most --max-nodes groups, the result's edge still exact.
    chain = os.path.join(tmp, "chain.expr")
    with open(chain, "w") as f:
        f.write("def chain(x) {\n  a0 = x\n")
        f.write("".join(f"  a{i + 1} = a{i} + 1e-5*sin(a{i})*x\n" for i in range(2000)))
        f.write("  return a2000\n}\n")
    r = gradc("graph", "chain.expr", "--at", "x=0.5", "--max-nodes", "50", cwd=tmp)
    dot = r.stdout.decode()
    groups = dot.count("operations")
    value = json.loads(gradc("run", "chain.expr", "--at", "x=0.5", "--json", cwd=tmp).stdout)["value"]
    out = re.search(r"\t(n\d+)\t\[label=chain,", dot)
    last = [label_numbers(a.get("label")) for s, d, a in parse_edges(dot) if out and d == out.group(1)]
    last = last[0] if last else None
    if r.returncode != 0 or not 10 <= groups <= 50 or last != (value, 1):
        fail(f"chain: exit {r.returncode}, {groups} groups, result edge {last} (run: {value})")
    if "10000 nodes to draw, over the limit of 50: statements are grouped" not in r.stderr.decode():
        fail(f"chain: {r.stderr.decode()!r}")

# The pictures of README.md, docs/CLI.md and docs/LECTURE.md are what gradc draws today
# (--update redraws them).
ROOT = os.path.abspath(os.path.join(DIR, "..", ".."))
NEURON = ["--at", "w=2,-3,-3", "--at", "x=-1,-2"]
PICTURES = {
    "simple.svg": ["examples/lecture4.expr", "--fn", "simple", "--at", "x=-2", "--at", "y=5", "--at", "z=-4"],
    "neuron.svg": ["examples/lecture4.expr", "--fn", "neuron", *NEURON],
    "neuron_gate.svg": ["examples/sigmoid_gate.expr", *NEURON],
    "neuron_gate_open.svg": ["examples/sigmoid_gate.expr", *NEURON, "--expand"],
    "gates.svg": ["examples/lecture4.expr", "--fn", "gates", "--at", "x=3", "--at", "y=-4", "--at", "z=2",
                  "--at", "w=-1"],
    "l2wx.svg": ["examples/lecture4.expr", "--fn", "l2wx", "--at", "W=0.1,0.5,-0.3,0.8", "--at", "x=0.2,0.4"],
    "neuron_grad.svg": ["examples/lecture4.expr", "--fn", "neuron", *NEURON, "--stage", "grad"],
}
with tempfile.TemporaryDirectory() as tmp:
    for name, args in PICTURES.items():
        image = os.path.join(ROOT, "docs", "images", name)
        fresh = os.path.join(tmp, name)
        r = gradc("graph", *args, "-o", fresh, cwd=ROOT)
        if r.returncode != 0:
            fail(f"{name}: {r.stderr.decode()}")
            continue
        if UPDATE:
            with open(image, "wb") as f:
                f.write(open(fresh, "rb").read())
        elif not os.path.exists(image) or open(fresh, "rb").read() != open(image, "rb").read():
            fail(f"docs/images/{name} is not what gradc draws: rerun with --update")

if failures:
    sys.exit(f"{len(failures)} failure(s)")
print("all graph checks passed")
