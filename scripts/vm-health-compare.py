#!/usr/bin/env python3
"""Compare `hypermesh health --json` with `smartctl -j -a /dev/X`, field by field.

    scripts/vm-health-compare.py HEALTH.json SMARTCTL.json [SMARTCTL.json...]

HEALTH.json is the output of `hypermesh health --json`; each SMARTCTL.json the output of
`smartctl -j -a /dev/X` for one device (`/dev/nvme0`, `/dev/nvme0n1`, `/dev/sda`), all taken on
the same machine at about the same time. Each smartctl device is matched with hypermesh's disk of
the same name (an NVMe namespace with its controller) and compared:

- NVMe: every field of `nvme_smart_health_information_log` (temperature in °C) and
  `smart_status.passed` against "no critical warning";
- ATA: `smart_status.passed`, `ata_smart_attributes.revision`, each attribute's value, worst,
  thresh, raw value, flags, pre-failure flag and when_failed, `temperature.current`,
  `power_on_time.hours` and `power_cycle_count`;
- SCSI: `smart_status.passed` and the informational exception ASC/ASCQ, `temperature.current`;
- a device smartctl finds without SMART must not have health data in hypermesh either.

Counters that move while the two commands run (NVMe host reads/writes, data units, busy time)
may differ by up to --slack (default 0) between the two runs. Prints one line per difference
and a summary; exits 1 when anything differs or cannot be matched, 2 on bad input.
Python 3 standard library only.
"""

import argparse
import json
import re
import sys

# NVMe log fields that count I/O and may move between the two runs.
MOVING = {"data_units_read", "data_units_written", "host_reads", "host_writes", "controller_busy_time"}

NVME_FIELDS = [
    "critical_warning",
    "temperature",
    "available_spare",
    "available_spare_threshold",
    "percentage_used",
    "data_units_read",
    "data_units_written",
    "host_reads",
    "host_writes",
    "controller_busy_time",
    "power_cycles",
    "power_on_hours",
    "unsafe_shutdowns",
    "media_errors",
    "num_err_log_entries",
    "warning_temp_time",
    "critical_comp_time",
    "temperature_sensors",
]


class Comparison:
    def __init__(self, slack):
        self.slack = slack
        self.differences = []
        self.compared = 0

    def check(self, device, field, ours, theirs, moving=False):
        self.compared += 1
        same = ours == theirs
        if not same and moving and isinstance(ours, int) and isinstance(theirs, int):
            same = abs(ours - theirs) <= self.slack
        if not same:
            self.differences.append(f"{device}: {field}: hypermesh {ours!r}, smartctl {theirs!r}")

    def fail(self, device, message):
        self.differences.append(f"{device}: {message}")


def disk_name(smartctl):
    """hypermesh's disk name for a smartctl report: /dev/nvme0n1 -> nvme0, /dev/sda -> sda."""
    name = smartctl.get("device", {}).get("name", "")
    if not name:
        # A device smartctl cannot open or type has no "device" object: take the name asked for.
        argv = smartctl.get("smartctl", {}).get("argv", [])
        name = argv[-1] if argv else ""
    base = name.rsplit("/", 1)[-1]
    m = re.fullmatch(r"(nvme\d+)(n\d+)?", base)
    return m.group(1) if m else base


def compare_nvme(c, dev, ours, theirs):
    log = theirs.get("nvme_smart_health_information_log")
    if log is None:
        c.fail(dev, "smartctl has no nvme_smart_health_information_log")
        return
    mine = ours.get("nvme")
    if mine is None:
        c.fail(dev, f"hypermesh has no NVMe log ({ours.get('status')}: {'; '.join(ours.get('reasons', []))})")
        return
    for field in NVME_FIELDS:
        if field not in log:
            continue
        value = mine.get("temperature_celsius" if field == "temperature" else field)
        c.check(dev, f"nvme.{field}", value, log[field], moving=field in MOVING)
    passed = theirs.get("smart_status", {}).get("passed")
    if passed is not None:
        c.check(dev, "smart_status.passed", mine.get("critical_warning") == 0, passed)


def compare_ata(c, dev, ours, theirs):
    smart = ours.get("ata")
    if smart is None:
        c.fail(dev, f"hypermesh has no ATA SMART ({ours.get('status')}: {'; '.join(ours.get('reasons', []))})")
        return
    passed = theirs.get("smart_status", {}).get("passed")
    if passed is not None:
        c.check(dev, "smart_status.passed", smart.get("passed"), passed)
    table = theirs.get("ata_smart_attributes", {})
    if "revision" in table:
        c.check(dev, "ata_smart_attributes.revision", smart.get("revision"), table["revision"])
    mine = {a["id"]: a for a in smart.get("attributes", [])}
    seen = set()
    for attr in table.get("table", []):
        i = attr["id"]
        seen.add(i)
        a = mine.get(i)
        if a is None:
            c.fail(dev, f"attribute {i} ({attr.get('name')}) missing from hypermesh")
            continue
        where = f"attribute {i}"
        c.check(dev, f"{where} value", a["value"], attr.get("value"))
        c.check(dev, f"{where} worst", a["worst"], attr.get("worst"))
        if "thresh" in attr:
            c.check(dev, f"{where} thresh", a["thresh"], attr["thresh"])
        c.check(dev, f"{where} raw", a["raw"], attr.get("raw", {}).get("value"))
        flags = attr.get("flags", {})
        if "value" in flags:
            c.check(dev, f"{where} flags", a["flags"], flags["value"])
        if "prefailure" in flags:
            c.check(dev, f"{where} prefailure", a["prefailure"], flags["prefailure"])
        c.check(dev, f"{where} when_failed", a.get("when_failed") or "", attr.get("when_failed", ""))
    for i in sorted(set(mine) - seen):
        c.fail(dev, f"attribute {i} in hypermesh but not in smartctl")
    if "temperature" in theirs and "current" in theirs["temperature"]:
        c.check(dev, "temperature.current", smart.get("temperature_celsius"), theirs["temperature"]["current"])
    if "power_on_time" in theirs and "hours" in theirs["power_on_time"]:
        c.check(dev, "power_on_time.hours", smart.get("power_on_hours"), theirs["power_on_time"]["hours"])
    if "power_cycle_count" in theirs:
        c.check(dev, "power_cycle_count", smart.get("power_cycle_count"), theirs["power_cycle_count"])


def compare_scsi(c, dev, ours, theirs):
    ie = ours.get("scsi")
    status = theirs.get("smart_status")
    if ie is None or status is None:
        c.fail(dev, "SCSI health in only one of the two reports")
        return
    c.check(dev, "smart_status.passed", ie.get("ie_asc") == 0, status.get("passed"))
    scsi = status.get("scsi", {})
    for field in ("ie_asc", "ie_ascq"):
        if field in scsi:
            c.check(dev, f"smart_status.scsi.{field}", ie.get(field), scsi[field])
    if "temperature" in theirs and "current" in theirs["temperature"]:
        c.check(dev, "temperature.current", ie.get("temperature_celsius"), theirs["temperature"]["current"])


def compare(health, reports, slack):
    c = Comparison(slack)
    disks = {d["device"]: d for d in health.get("disks", [])}
    for path, theirs in reports:
        dev = disk_name(theirs)
        ours = disks.get(dev)
        if ours is None:
            c.fail(dev or path, f"not in hypermesh's disks ({', '.join(sorted(disks))})")
            continue
        protocol = theirs.get("device", {}).get("protocol", "")
        has_smart = theirs.get("smart_support", {}).get("available", True)
        if protocol == "NVMe":
            compare_nvme(c, dev, ours, theirs)
        elif protocol == "ATA" and has_smart:
            compare_ata(c, dev, ours, theirs)
        elif protocol == "SCSI" and "smart_status" in theirs:
            compare_scsi(c, dev, ours, theirs)
        else:
            # smartctl has no health data: neither may hypermesh.
            c.compared += 1
            if any(ours.get(k) for k in ("nvme", "ata", "scsi")):
                c.fail(dev, f"smartctl has no SMART data ({protocol or 'unknown protocol'}) but hypermesh has")
    return c


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"vm-health-compare: {path}: {e}", file=sys.stderr)
        sys.exit(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("health", help="output of `hypermesh health --json`")
    parser.add_argument("smartctl", nargs="+", help="output of `smartctl -j -a /dev/X`, one per device")
    parser.add_argument("--slack", type=int, default=0, help="allowed difference of moving I/O counters")
    args = parser.parse_args()
    health = load(args.health)
    reports = [(p, load(p)) for p in args.smartctl]
    c = compare(health, reports, args.slack)
    for d in c.differences:
        print(d)
    verdict = "MISMATCH" if c.differences else "agree"
    print(f"vm-health-compare: {len(reports)} devices, {c.compared} fields compared, {len(c.differences)} differences: {verdict}")
    return 1 if c.differences else 0


if __name__ == "__main__":
    sys.exit(main())
