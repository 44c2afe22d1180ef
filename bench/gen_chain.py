#!/usr/bin/env python3
"""Writes a scalar program of about NODES forward IR nodes:
a chain `a = a + 1e-5*sin(a)*x` with fan-out from x, each statement 4 new nodes."""
import sys

nodes = int(sys.argv[1])
statements = max(1, nodes // 4)
lines = ["def chain(x) {", "  a0 = x"]
for i in range(statements):
    lines.append(f"  a{i + 1} = a{i} + 1e-5*sin(a{i})*x")
lines.append(f"  return a{statements}")
lines.append("}")
print("\n".join(lines))
