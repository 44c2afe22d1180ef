#!/usr/bin/env python3
"""Runs bench_backend and prints the ratios issues 3, 4 and 5 set targets for, as a
Markdown table (medians of the repetitions, all measured in the same process).

usage: bench/ratios.py build/bench/bench_backend [--repetitions N] [--min-time S]
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", default="0.2")
    args = ap.parse_args()
    out = subprocess.run(
        # Repetitions interleaved in random order: a slow phase of the VM (its memory
        # bandwidth varies by up to 1.5x over minutes) then hits every benchmark alike.
        [args.binary, "--benchmark_format=json", f"--benchmark_repetitions={args.repetitions}",
         f"--benchmark_min_time={args.min_time}", "--benchmark_report_aggregates_only=true",
         "--benchmark_enable_random_interleaving=true"],
        check=True, capture_output=True, text=True,
        # One thread everywhere: the JIT hands large products to OpenBLAS when it has more.
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1")).stdout
    data = json.loads(out)
    t = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            unit = {"ns": 1, "us": 1e3, "ms": 1e6}[b.get("time_unit", "ns")]
            t[b["run_name"].split("/")[0]] = b["real_time"] * unit  # ns
    ctx = data["context"]
    print(f"machine: {ctx['num_cpus']} x {ctx['mhz_per_cpu']} MHz, "
          f"{ctx.get('host_name', '')}; medians of {args.repetitions} repetitions\n")
    rows = [
        ("neuron value+gradient: gradc / hand C", t["BM_neuron_grad_gradc"] / t["BM_neuron_grad_hand"], "<= 1.15"),
        ("neuron: ADOL-C / gradc", t["BM_neuron_grad_adolc"] / t["BM_neuron_grad_gradc"], ">= 10"),
        ("call overhead: JIT call - direct call (ns)", t["BM_call_gradc"] - t["BM_call_direct"], "< 5"),
        ("rosenbrock gradient: gradc / hand C", t["BM_rosenbrock_grad_gradc"] / t["BM_rosenbrock_grad_hand"], "<= 1.15"),
        ("rosenbrock: gradc gradient / gradc forward", t["BM_rosenbrock_grad_gradc"] / t["BM_rosenbrock_value_gradc"], "<= 3"),
        ("rosenbrock: ADOL-C / gradc", t["BM_rosenbrock_grad_adolc"] / t["BM_rosenbrock_grad_gradc"], ">= 10"),
        ("l2wx n=4096 value+gradient: gradc / memory-traffic bound", t["BM_l2wx_grad_gradc"] / t["BM_l2wx_memory_bound"], "<= 1.25 (issue 4)"),
        ("l2wx: gradc / hand C (three sweeps)", t["BM_l2wx_grad_gradc"] / t["BM_l2wx_grad_hand"], "<= 1 (issue 4)"),
        ("l2wx: gradc / hand C (one fused sweep)", t["BM_l2wx_grad_gradc"] / t["BM_l2wx_grad_hand_fused"], ""),
    ]
    for model in ["neuron", "rosenbrock", "l2wx", "mlp2"]:
        jit, obj, c = (t[f"BM_emit_{model}_{k}"] for k in ["jit", "object", "c"])
        rows.append((f"{model} gradient: emitted object / JIT", obj / jit, "as fast (issue 5)"))
        rows.append((f"{model} gradient: emitted C (gcc -O3 -march=native) / object", c / obj, "<= 1.3 (issue 5)"))
    print("| measure | value | target |")
    print("|---|---|---|")
    for name, v, target in rows:
        print(f"| {name} | {v:.2f} | {target} |")
    print("\n| benchmark | median ns |")
    print("|---|---|")
    for k, v in sorted(t.items()):
        print(f"| {k} | {v:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
