#!/usr/bin/env python3
"""The GradBench/ADBench programs of examples/gradbench/, against independent references.

For each program: data drawn with a fixed seed (small sizes), written to a JSON file;
`gradc run FILE --fn F --json --at-file DATA --dim ...` must give the value of a pure-Python
float64 implementation of the published formula (written here, following the reference
code's order of operations) and gradients that match central finite differences of that
implementation (and, where it is simple, the hand-derived gradient); `gradc check FILE --fn
F --at-file DATA` must pass (exit 0). For a function with a vector result the gradient is the
vector-Jacobian product with a random `d_out`, compared with the differences of <d_out, F>.

Usage: check_gradbench.py GRADC EXAMPLES_DIR [PROGRAM...]   (standard library only)
Prints one line per program; exits 1 with what differs on any mismatch.
"""
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

GRADC, EXAMPLES = (os.path.abspath(a) for a in sys.argv[1:3])
ENV = dict(os.environ, GRADC_CACHE="off")
WORK = tempfile.mkdtemp(prefix="gradbench-")
FD_STEP = 1e-6      # central differences with step FD_STEP * max(1, |x|)
FD_TOL = 1e-6       # |gradc - fd| <= FD_TOL * max(|fd|, largest |fd| of the parameter)
HAND_TOL = 1e-10    # the same against a hand-derived gradient


class Mismatch(Exception):
    pass


# ---------------------------------------------------------------------------- helpers

def flat(v):
    if isinstance(v, list):
        return [x for e in v for x in flat(e)]
    return [v]


def shape(v):
    return [len(v)] + shape(v[0]) if isinstance(v, list) else []


def with_flat(v, values):
    """A nested list of v's shape holding `values` (row-major)."""
    it = iter(values)

    def build(s):
        return [build(s[1:]) for _ in range(s[0])] if s else next(it)
    return build(shape(v))


def number(x):
    return float(x)  # also gradc's "nan", "inf" and "-inf" for non-finite numbers


def fd_gradient(f, params, name):
    """Central differences of the scalar f(params) with respect to params[name]."""
    base = flat(params[name])
    out = []
    for i, x in enumerate(base):
        h = FD_STEP * max(1.0, abs(x))
        vals = []
        for s in (h, -h):
            p = dict(params)
            moved = list(base)
            moved[i] = x + s
            p[name] = with_flat(params[name], moved)
            vals.append(f(p))
        out.append((vals[0] - vals[1]) / (2 * h))
    return out


def compare(what, got, want, tol, scale=None):
    """|got - want| <= tol * max(|want_i|, scale) elementwise (scale: the largest |want| by
    default, so that the tolerance follows the size of the whole array)."""
    g, w = [number(x) for x in flat(got)], flat(want)
    if len(g) != len(w):
        raise Mismatch(f"{what}: {len(g)} numbers, expected {len(w)}")
    if scale is None:
        scale = max([abs(x) for x in w] + [1e-300])
    for i, (a, b) in enumerate(zip(g, w)):
        if not (abs(a - b) <= tol * max(abs(b), scale)):
            where = f"{what}[{i}]" if isinstance(want, list) else what
            raise Mismatch(f"{where}: gradc {a!r}, reference {b!r} "
                           f"(|diff| {abs(a - b):.3g} > {tol:g} * {max(abs(b), scale):.3g})")


def write_data(name, data):
    path = os.path.join(WORK, name + ".json")
    with open(path, "w") as f:
        json.dump(data, f)
    return path


def gradc(*args):
    return subprocess.run([GRADC, *args], capture_output=True, text=True, env=ENV, timeout=300)


def run_json(source, fn, data_path, dims):
    args = ["run", source, "--fn", fn, "--json", "--at-file", data_path]
    for d, v in dims.items():
        args += ["--dim", f"{d}={v}"]
    r = gradc(*args)
    if r.returncode != 0:
        raise Mismatch(f"`gradc {' '.join(args)}` exited {r.returncode}: {r.stderr.strip()}")
    out = json.loads(r.stdout)
    if out.get("fn") != fn:
        raise Mismatch(f"gradc run printed {r.stdout!r}")
    return out


def check_program(source, fn, data, ref, wrt, dims={}, check_dims={}, value_tol=1e-12,
                  value_scale=None, hand=None, d_out=None):
    """ref(params) -> value (a number or a nested list); wrt: the differentiable parameters;
    dims: given to `gradc run` with --dim; check_dims: those `gradc check` needs (not
    implied by the data); hand: {name: gradient} derived by hand."""
    data = dict(data)
    if d_out is not None:
        data["d_out"] = d_out
    path = write_data(fn, data)
    out = run_json(os.path.join(EXAMPLES, source), fn, path, dims)
    want = ref(data)
    compare(f"{fn} value", out["value"], want, value_tol, value_scale)

    if d_out is None:
        scalar = ref
    else:
        def scalar(p):
            return sum(a * b for a, b in zip(flat(ref(p)), flat(d_out)))
    if sorted(out["grad"]) != sorted(wrt):
        raise Mismatch(f"{fn}: gradients of {sorted(out['grad'])}, expected {sorted(wrt)}")
    for name in wrt:
        got = out["grad"][name]
        if shape(got) != shape(data[name]):
            raise Mismatch(f"{fn}: d{name} has shape {shape(got)}, {name} {shape(data[name])}")
        compare(f"{fn} d{name} (finite differences)", got, fd_gradient(scalar, data, name), FD_TOL)
        if hand and name in hand:
            compare(f"{fn} d{name} (hand-derived)", got, hand[name], HAND_TOL)

    args = ["check", os.path.join(EXAMPLES, source), "--fn", fn, "--at-file", path]
    for d, v in check_dims.items():
        args += ["--dim", f"{d}={v}"]
    r = gradc(*args)
    if r.returncode != 0:
        raise Mismatch(f"`gradc {' '.join(args)}` exited {r.returncode}:\n{r.stdout}{r.stderr}")


# ------------------------------------------------------- references (float64, pure Python)

def lse_ref(p):  # cpp/gradbench/evals/lse.hpp
    x = p["x"]
    a = x[0]
    for v in x[1:]:
        a = max(a, v)
    s = 0.0
    for v in x:
        s += math.exp(v - a)
    return math.log(s) + a


def llsq_ref(n):  # cpp/gradbench/evals/llsq.hpp
    def f(p):
        x = p["x"]
        total = 0.0
        for i in range(n):
            t = -1 + i * 2 / (n - 1)
            inner = float((0 < t) - (t < 0))
            for j in range(len(x)):
                inner -= x[j] * math.pow(t, j)
            total += inner * inner
        return total / 2
    return f


def kmeans_ref(p):  # cpp/gradbench/evals/kmeans.hpp
    cost = 0.0
    for a in p["points"]:
        closest = math.inf
        for b in p["centroids"]:
            d = 0.0
            for ai, bi in zip(a, b):
                d += (ai - bi) * (ai - bi)
            closest = min(closest, d)
        cost += closest
    return cost


def det_minors(A):  # cmpad's det_by_minor: expansion along the first row, left to right
    m = len(A)
    if m == 1:
        return A[0][0]
    det = 0.0
    for j in range(m):
        minor = [row[:j] + row[j + 1:] for row in A[1:]]
        term = A[0][j] * det_minors(minor)
        det = det + term if j % 2 == 0 else det - term
    return det


def permanent(A):
    if len(A) == 1:
        return A[0][0]
    return sum(A[0][j] * permanent([row[:j] + row[j + 1:] for row in A[1:]]) for j in range(len(A)))


def det_ref(p):
    return det_minors(p["A"])


def ode_y_ref(steps):  # cpp/gradbench/evals/ode.hpp
    def f(p):
        x = p["x"]
        n = len(x)

        def ode_fun(y):
            return [x[0]] + [x[i] * y[i - 1] for i in range(1, n)]
        tf = 2.0
        h = tf / steps
        y = [0.0] * n
        for _ in range(steps):
            k1 = ode_fun(y)
            k2 = ode_fun([y[i] + h * k1[i] / 2 for i in range(n)])
            k3 = ode_fun([y[i] + h * k2[i] / 2 for i in range(n)])
            k4 = ode_fun([y[i] + h * k3[i] for i in range(n)])
            y = [y[i] + h * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) / 6 for i in range(n)]
        return y
    return f


def logsumexp(v):
    mx = max(v)
    return math.log(sum(math.exp(x - mx) for x in v)) + mx


def gmm_ref(p):  # ADBench src/cpp/shared/gmm.h, gmm_objective and log_wishart_prior
    alphas, means, icf, x = p["alphas"], p["means"], p["icf"], p["x"]
    gamma, wm = p["gamma"], p["m"]
    k, d, n = len(alphas), len(means[0]), len(x)
    CONSTANT = -n * d * 0.5 * math.log(2 * math.pi)
    Qdiags = [[math.exp(q) for q in row[:d]] for row in icf]
    sum_qs = [sum(row[:d]) for row in icf]
    slse = 0.0
    for ix in range(n):
        main_term = []
        for ik in range(k):
            xc = [x[ix][j] - means[ik][j] for j in range(d)]
            Qxc = [Qdiags[ik][j] * xc[j] for j in range(d)]
            idx = d
            for i in range(d):          # Qtimesx: the strictly lower part, column by column
                for j in range(i + 1, d):
                    Qxc[j] += icf[ik][idx] * xc[i]
                    idx += 1
            main_term.append(alphas[ik] + sum_qs[ik] - 0.5 * sum(v * v for v in Qxc))
        slse += logsumexp(main_term)
    err = CONSTANT + slse - n * logsumexp(alphas)
    # log_wishart_prior
    nn = d + wm + 1
    lgd = 0.25 * d * (d - 1) * math.log(math.pi)
    for j in range(1, d + 1):
        lgd += math.lgamma(0.5 * nn + 0.5 * (1 - j))
    C = nn * d * (math.log(gamma) - 0.5 * math.log(2)) - lgd
    out = 0.0
    for ik in range(k):
        frobenius = sum(v * v for v in Qdiags[ik]) + sum(v * v for v in icf[ik][d:])
        out += 0.5 * gamma * gamma * frobenius - wm * sum_qs[ik]
    return err + (out - k * C)


def ba_residuals_ref(p):  # ADBench src/cpp/shared/ba.h
    cams, X, w, feats = p["cams"], p["X"], p["w"], p["feats"]
    reproj, werr = [], []
    for i, (ci, pi) in enumerate(zip(p["obs_cam"], p["obs_pt"])):
        cam, pt = cams[ci], X[pi]
        Xo = [pt[j] - cam[3 + j] for j in range(3)]
        rot = cam[0:3]
        sqtheta = sum(r * r for r in rot)
        theta = math.sqrt(sqtheta)
        costheta, sintheta = math.cos(theta), math.sin(theta)
        theta_inverse = 1.0 / theta
        u = [r * theta_inverse for r in rot]
        cross = [u[1] * Xo[2] - u[2] * Xo[1], u[2] * Xo[0] - u[0] * Xo[2], u[0] * Xo[1] - u[1] * Xo[0]]
        tmp = (u[0] * Xo[0] + u[1] * Xo[1] + u[2] * Xo[2]) * (1.0 - costheta)
        Xcam = [Xo[j] * costheta + cross[j] * sintheta + u[j] * tmp for j in range(3)]
        proj = [Xcam[0] / Xcam[2], Xcam[1] / Xcam[2]]
        rsq = proj[0] * proj[0] + proj[1] * proj[1]
        L = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq
        proj = [proj[0] * L, proj[1] * L]
        proj = [proj[0] * cam[6] + cam[7], proj[1] * cam[6] + cam[8]]
        reproj += [w[i] * (proj[0] - feats[i][0]), w[i] * (proj[1] - feats[i][1])]
        werr.append(1 - w[i] * w[i])
    return reproj + werr


def ba_ref(p):
    return sum(r * r for r in ba_residuals_ref(p))


# ------------------------------------------------------------------------------ cases

def uniform(rng, lo, hi, *dims):
    if not dims:
        return rng.uniform(lo, hi)
    return [uniform(rng, lo, hi, *dims[1:]) for _ in range(dims[0])]


def case_lse():
    rng = random.Random(1)
    for label, offset in (("", 0.0), (", shifted by 1000", 1000.0)):
        x = [offset + v for v in uniform(rng, -3, 3, 9)]
        a = max(x)
        e = [math.exp(v - a) for v in x]
        softmax = [v / sum(e) for v in e]
        if offset == 0:
            check_program("lse.expr", "lse", {"x": x}, lse_ref, ["x"], dims={"n": 9},
                          hand={"x": softmax})
        else:  # exp(1000) overflows without the shift; differences at |x| ~ 1000 are too coarse
            out = run_json(os.path.join(EXAMPLES, "lse.expr"), "lse",
                           write_data("lse_shifted", {"x": x}), {})
            compare("lse value" + label, out["value"], lse_ref({"x": x}), 1e-12)
            compare("lse dx (hand-derived)" + label, out["grad"]["x"], softmax, HAND_TOL)
    return "n=9 (and the same shifted by 1000)"


def case_llsq():
    rng = random.Random(2)
    for n, m in ((16, 8), (17, 5)):  # odd n: t_8 = 0 exactly, 0^0 = 1 as in C's pow
        x = uniform(rng, 0, 1, m)
        ts = [-1 + i * 2 / (n - 1) for i in range(n)]
        f = llsq_ref(n)
        r = []
        for t in ts:
            r.append(float((0 < t) - (t < 0)) - sum(x[j] * math.pow(t, j) for j in range(m)))
        hand = [-sum(r[i] * math.pow(ts[i], j) for i in range(n)) for j in range(m)]
        check_program("llsq.expr", "llsq", {"x": x}, f, ["x"], dims={"n": n, "m": m},
                      check_dims={"n": n}, value_tol=1e-10, hand={"x": hand})
    return "n=16 m=8, n=17 m=5"


def case_kmeans():
    rng = random.Random(3)
    N, K, D = 10, 3, 2
    while True:
        points = uniform(rng, 0, 1, N, D)
        # As GradBench: the last K points as centroids (each cluster non-empty), moved a little.
        centroids = [[v + rng.uniform(-0.05, 0.05) for v in pt] for pt in points[-K:]]
        d2 = [[sum((a - b) ** 2 for a, b in zip(pt, c)) for c in centroids] for pt in points]
        gaps = [sorted(row)[1] - sorted(row)[0] for row in d2]
        if min(gaps) > 1e-3:  # no point near a tie: the objective is smooth at the data
            break
    hand = [[0.0] * D for _ in range(K)]
    for pt, row in zip(points, d2):
        j = row.index(min(row))
        for t in range(D):
            hand[j][t] += 2 * (centroids[j][t] - pt[t])
    check_program("kmeans.expr", "kmeans", {"points": points, "centroids": centroids}, kmeans_ref,
                  ["centroids"], dims={"N": N, "K": K, "D": D}, hand={"centroids": hand})
    return f"N={N} K={K} D={D}"


def case_det():
    rng = random.Random(4)
    A = uniform(rng, 0, 1, 5, 5)  # GradBench draws A uniformly in [0, 1)
    cof = [[(-1) ** (i + j) * det_minors([r[:j] + r[j + 1:] for k, r in enumerate(A) if k != i])
            for j in range(5)] for i in range(5)]
    # The value is a sum of 120 signed products: compare it to the sum of their sizes (the
    # permanent of |A|), the scale of its rounding errors.
    scale = permanent([[abs(v) for v in row] for row in A])
    check_program("det.expr", "det", {"A": A}, det_ref, ["A"], value_tol=1e-12, value_scale=scale,
                  hand={"A": cof})
    return "5 x 5"


def case_ode():
    rng = random.Random(5)
    n, steps = 6, 10
    x = uniform(rng, 0.5, 1.5, n)
    y = ode_y_ref(steps)
    check_program("ode.expr", "ode", {"x": x}, lambda p: y(p)[-1], ["x"], dims={"n": n})
    check_program("ode.expr", "ode_y", {"x": x}, y, ["x"], dims={"n": n},
                  d_out=uniform(rng, -1, 1, n))
    return f"n={n}, s={steps} steps; ode and ode_y (d_out random)"


def gmm_lidx(D):
    """lidx[j][i]: the column of icf holding L[j, i] (j > i), ADBench's column-by-column
    packing after the D log-diagonal entries; 0 on and above the diagonal (tril drops it)."""
    lidx = [[0] * D for _ in range(D)]
    idx = D
    for i in range(D):
        for j in range(i + 1, D):
            lidx[j][i] = idx
            idx += 1
    return lidx


def case_gmm():
    rng = random.Random(6)
    D, K, N = 3, 2, 10
    data = {
        "alphas": [rng.gauss(0, 1) for _ in range(K)],
        "means": [[rng.gauss(0, 1) for _ in range(D)] for _ in range(K)],
        "icf": [[rng.gauss(0, 0.5) for _ in range(D * (D + 1) // 2)] for _ in range(K)],
        "x": [[rng.gauss(0, 1) for _ in range(D)] for _ in range(N)],
        "lidx": gmm_lidx(D),
        "gamma": 1.3,
        "m": 2,
    }
    check_program("gmm.expr", "gmm", data, gmm_ref, ["alphas", "means", "icf"],
                  dims={"N": N, "K": K, "D": D}, value_tol=1e-10)
    return f"D={D} K={K} N={N}, gamma=1.3 m=2"


def case_ba():
    rng = random.Random(7)
    n, m, p = 3, 5, 12
    cams = []
    for _ in range(n):
        cams.append(uniform(rng, -0.3, 0.3, 3) + uniform(rng, -0.5, 0.5, 3) + [rng.uniform(0.8, 1.2)]
                    + uniform(rng, -0.1, 0.1, 2) + uniform(rng, -0.05, 0.05, 2))
    X = [uniform(rng, -1, 1, 2) + [rng.uniform(4, 6)] for _ in range(m)]   # in front of the cameras
    obs_cam = [i % n for i in range(p)]
    obs_pt = [i % m for i in range(p)]
    rng.shuffle(obs_cam)
    rng.shuffle(obs_pt)                  # every camera and point seen, most of them repeatedly
    data = {"cams": cams, "X": X, "w": uniform(rng, 0.5, 1.5, p), "obs_cam": obs_cam,
            "obs_pt": obs_pt, "feats": uniform(rng, -0.3, 0.3, p, 2)}
    dims = {"n": n, "m": m, "p": p}
    check_program("ba.expr", "ba", data, ba_ref, ["cams", "X", "w"], dims=dims, value_tol=1e-10)
    check_program("ba.expr", "ba_residuals", data, ba_residuals_ref, ["cams", "X", "w"], dims=dims,
                  value_tol=1e-10, d_out=uniform(rng, -1, 1, 3 * p))
    return f"{n} cameras, {m} points, {p} observations; ba and ba_residuals (d_out random)"


CASES = [("gmm", case_gmm), ("ba", case_ba), ("lse", case_lse), ("llsq", case_llsq),
         ("kmeans", case_kmeans), ("det", case_det), ("ode", case_ode)]


def main():
    start = time.time()
    failures = []
    only = sys.argv[3:]  # optional: the programs to check
    cases = [(name, case) for name, case in CASES if not only or name in only]
    for name, case in cases:
        t0 = time.time()
        try:
            detail = case()
            print(f"ok   {name}.expr: {detail} ({time.time() - t0:.1f} s)", flush=True)
        except Mismatch as e:
            print(f"FAIL {name}.expr: {e}", flush=True)
            failures.append(name)
    print(f"{len(cases) - len(failures)} passed, {len(failures)} failed ({time.time() - start:.1f} s)")
    if failures:
        print("mismatch in " + ", ".join(f"examples/gradbench/{f}.expr" for f in failures)
              + f" (data files in {WORK})")
        return 1
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
