#!/usr/bin/env python3
"""Renders the README's eBPF matrix (program x variant x kernel) from vm-test report(s).

    vm-matrix.py REPORT_JSON...

One row per program and kernel, one column per attach variant. A cell reads `N` (attached,
counted N events), `0` (attached, counted nothing), `failed` (did not attach; the error is listed
under the table), the probe's verdict (`absent`, `denied`) where the kernel does not offer that
hook, or `-` (the program has no such variant).

Then, for each report with a health check (the guest's), one row per disk: hypermesh's status,
smartctl's verdict, the status expected of it, fields compared and differences.
"""

import json
import sys

VARIANTS = ["fentry", "kprobe", "tp_btf", "raw_tp", "tracepoint", "xdp_native", "xdp_generic"]


def cell(run):
    if not run.get("offered", True):
        return run["probe_verdict"]
    if not run["attached"]:
        return "failed"
    return str(run["events"]) + ("" if not run["error"] else " (exit≠0)")


def main(paths):
    rows, notes, reports = [], [], []
    for path in paths:
        with open(path) as f:
            report = json.load(f)
        reports.append(report)
        kernel = report["kernel"]
        programs = {}
        for run in report["runs"]:
            # A run that attached several kinds (one per hook) is listed under each.
            for variant in run["variant"].split("+"):
                programs.setdefault(run["program"], {})[variant] = run
            if run["error"] and run.get("offered", True):
                notes.append(f"- {run['program']} {run['variant']} on {kernel}: {run['error']}")
        for program, runs in sorted(programs.items()):
            cells = [cell(runs[v]) if v in runs else "-" for v in VARIANTS]
            rows.append(f"| {program} | {kernel} | " + " | ".join(cells) + " |")
    print("| program | kernel | " + " | ".join(VARIANTS) + " |")
    print("|---|---|" + "---|" * len(VARIANTS))
    print("\n".join(rows))
    if notes:
        print("\n" + "\n".join(notes))
    for report in reports:
        if report.get("health"):
            print()
            print_health(report["kernel"], report["health"])


def print_health(kernel, health):
    """The health check's table: one row per disk, then its differences and error."""
    print("| disk | kernel | protocol | hypermesh | smartctl passed | expected | fields compared | differences |")
    print("|---|---|---|---|---|---|---|---|")
    for d in health["devices"]:
        passed = {True: "yes", False: "no (FAILED)", None: "no SMART"}[d.get("smartctl_passed")]
        expected = d.get("expected_status", "?") + ("" if d.get("as_expected") else " **not met**")
        print(
            f"| {d['device']} ({d.get('serial') or 'no serial'}) | {kernel} | {d.get('protocol') or '-'} | "
            f"{d.get('status')} | {passed} | {expected} | {d.get('fields_compared', 0)} | {len(d['differences'])} |"
        )
    for d in health["devices"]:
        for x in d["differences"]:
            print(f"- {x}")
    if health.get("error"):
        print(f"- health: {health['error']}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
