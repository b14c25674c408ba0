#!/usr/bin/env python3
"""`make bench`: mrun side by side with what users would run instead, in one run.

Runs each scenario file (one per scenario, each a child process with a timeout so the bench always
ends), then prints one table (median, min, max, target, and the ratio of every row to the scenario's
first mrun row) and writes bench/results.json and bench/results.md. Usage:
    scripts/bench/bench.py MRUN FAKE_APISERVER [SCENARIO...]
MRUN_BENCH_RUNS sets the measured runs per row (default 10, after one warm-up). MRUN_BENCH_BASELINE,
the path of another mrun build (e.g. an earlier commit's, see scripts/bench/build-baseline), runs
each chosen scenario's mrun rows with it too, marked `[baseline]`: right after this build's, or in
k8s_sweep round by round beside them, as that scenario measures all its rows.
"""
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
# (file, timeout in seconds), most important first.
SCENARIOS = [("startup", 300), ("k8s_sweep", 1500), ("slurm_sweep", 1500), ("relaunch", 900), ("memory", 600)]
# Scenarios that run the baseline themselves, round by round beside this build (MRUN_BENCH_BASELINE).
INTERLEAVES_BASELINE = {"k8s_sweep"}


def machine():
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "memory_gib": round(memory, 1), "cpu": cpu, "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def run_scenario(name, timeout, mrun, fake):
    argv = [sys.executable, str(HERE / f"{name}.py"), mrun, fake]
    start = time.monotonic()
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [{"scenario": name, "name": name, "kind": "mrun", "unit": "s", "target": None,
                 "skipped": f"scenario timed out after {timeout} s"}]
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        error = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return [{"scenario": name, "name": name, "kind": "mrun", "unit": "s", "target": None,
                 "skipped": f"scenario failed ({result.returncode}): {error}"[:300]}]
    rows = json.loads(lines[-1])
    for item in rows:
        item["scenario_seconds"] = round(time.monotonic() - start, 1)
    return rows


def baseline_rows(rows):
    """The baseline's own rows of a scenario (its peers ran already), marked so the ratio column
    compares them with this build's."""
    marked = []
    for item in rows:
        if item["kind"] == "mrun":
            marked.append({**item, "kind": "baseline", "name": item["name"] + " [baseline]"})
    return marked


def value(number, unit):
    return f"{number * 1000:.1f} ms" if unit == "s" else f"{number:.1f} MB"


def add_ratios(rows):
    bases = {}
    for item in rows:
        if item["kind"] == "mrun" and "median" in item:
            bases.setdefault((item["scenario"], item.get("group", "")), item)
    named = {(item["scenario"], item["name"]): item for item in rows if item["kind"] == "mrun" and "median" in item}
    for item in rows:
        base = bases.get((item["scenario"], item.get("group", "")))
        if item["kind"] == "baseline":  # beside the same row of this build
            base = named.get((item["scenario"], item["name"].removesuffix(" [baseline]")))
        if base and "median" in item and base["median"]:
            item["x_mrun"] = item["median"] / base["median"]
            item["ratio_base"] = base["name"]


def table(rows, markdown):
    header = ["scenario", "what", "median", "min", "max", "target", "x mrun"]
    lines = []
    for item in rows:
        if "skipped" in item:
            cells = [item["scenario"], item["name"], "skipped: " + item["skipped"], "", "", "", ""]
        else:
            target = item.get("target")
            met = "" if target is None else (" ok" if item["median"] <= target else " MISSED")
            cells = [item["scenario"], item["name"], value(item["median"], item["unit"]),
                     value(item["min"], item["unit"]), value(item["max"], item["unit"]),
                     "" if target is None else "≤ " + value(target, item["unit"]) + met,
                     f"{item['x_mrun']:.2f}x" if "x_mrun" in item else ""]
        lines.append(cells)
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max(len(header[i]), *(len(c[i]) for c in lines if not c[2].startswith("skipped"))) if lines else 10
              for i in range(len(header))]
    widths[1] = min(widths[1], 58)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    for cells in lines:
        if cells[2].startswith("skipped"):
            out.append(f"{cells[0].ljust(widths[0])}  {cells[1].ljust(widths[1])}  {cells[2]}")
        else:
            out.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)))
    return "\n".join(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    mrun, fake = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    chosen = sys.argv[3:] or [name for name, _ in SCENARIOS]
    baseline = os.environ.get("MRUN_BENCH_BASELINE")
    baseline = os.path.abspath(baseline) if baseline else None
    rows = []
    for name, timeout in SCENARIOS:
        if name in chosen:
            print(f"bench: {name}…", file=sys.stderr, flush=True)
            rows += run_scenario(name, timeout, mrun, fake)
            if baseline and name not in INTERLEAVES_BASELINE:
                print(f"bench: {name} with the baseline…", file=sys.stderr, flush=True)
                rows += baseline_rows(run_scenario(name, timeout, baseline, fake))
    add_ratios(rows)
    runs = os.environ.get("MRUN_BENCH_RUNS", "10")
    info = machine()
    results = {"machine": info, "runs": int(runs), "rows": rows,
               "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}
    summary = (f"{runs} measured runs per row after a warm-up; {info['cores']} cores, {info['memory_gib']} GiB, "
               f"{info['cpu']}, load {info['load_average']}")
    print(summary)
    print(table(rows, markdown=False))
    out = pathlib.Path("bench")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    notes = [f"- {item['scenario']} / {item['name']}: {item['note']}" for item in rows if item.get("note")]
    (out / "results.md").write_text(
        f"# mrun bench\n\n{summary}. `x mrun`: median ÷ the median of the scenario's first mrun row "
        "(above 1: slower than mrun).\n\n" + table(rows, markdown=True) + "\n"
        + ("\n" + "\n".join(notes) + "\n" if notes else ""))


if __name__ == "__main__":
    main()
